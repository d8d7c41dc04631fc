"""The gateway serves the app: strict CSP, year-long caching of versioned files, dev sign-in in dev only."""

from __future__ import annotations

import gzip
import json
import re

import httpx
import pytest

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from putokaz.auth import new_secret
from putokaz.testing import UvicornProcess

VENDORED = ("preact.js", "preact-hooks.js", "htm.js", "idb.js")


def test_the_app_is_served_at_the_root_with_a_strict_csp_and_no_third_party_origin(web: UvicornProcess) -> None:
    index = httpx.get(web.url + "/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    csp = index.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert index.headers["cache-control"] == "no-cache"
    # No inline script: every <script> has a src on this origin.
    scripts = re.findall(r"<script[^>]*>", index.text)
    assert scripts and all('src="/app/' in s for s in scripts)
    assert "http://" not in index.text and "https://" not in index.text


def test_versioned_files_are_cached_for_a_year_and_compressed(web: UvicornProcess) -> None:
    index = httpx.get(web.url + "/").text
    # The entry is the linked bundle (gateway/bundle.py); the service worker keeps it and its lazy part.
    main = re.search(r'src="(/app/[0-9a-f]+/app\.bundle\.js)"', index).group(1)
    asset = httpx.get(web.url + main, headers={"accept-encoding": "gzip"})
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    stale = httpx.get(web.url + re.sub(r"/app/[0-9a-f]+/", "/app/000000000000/", main))
    assert stale.status_code == 404  # an old version's URL never serves new content
    sw = httpx.get(web.url + "/sw.js")
    assert sw.headers["cache-control"] == "no-cache" and main in sw.text
    assert main.replace("app.bundle.js", "app.screens.index.js") in sw.text
    # The sources are served too, as they are (for debugging with PUTOKAZ_WEB_BUNDLE=false, and old links).
    assert httpx.get(web.url + main.replace("app.bundle.js", "main.js")).status_code == 200


def _sent(url: str) -> int:
    """Bytes on the wire with gzip accepted (httpx would decode them)."""
    with httpx.stream("GET", url, headers={"accept-encoding": "gzip"}) as response:
        assert response.status_code == 200, url
        raw = b"".join(response.iter_raw())
    if response.headers.get("content-encoding") == "gzip":
        gzip.decompress(raw)  # it is what it says
    return len(raw)


def test_the_shell_stays_under_150_kb_with_one_catalogue_and_the_others_come_when_chosen(web: UvicornProcess) -> None:
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", httpx.get(web.url + "/sw.js").text).group(1))
    assert [path for path in shell if "i18n" in path] == []  # only English, inside the bundle
    prefix = re.search(r'src="(/app/[0-9a-f]+/)app\.bundle\.js"', httpx.get(web.url + "/").text).group(1)
    catalogues = {lang: _sent(f"{web.url}{prefix}app.i18n.{lang}.js") for lang in ("bs", "sr-Cyrl", "ar", "bn")}
    first_load = sum(_sent(web.url + path) for path in shell) + max(catalogues.values())
    assert first_load <= 150 * 1024, (first_load, catalogues)


def test_vendored_libraries_carry_their_version_and_licence(web: UvicornProcess) -> None:
    index = httpx.get(web.url + "/").text
    prefix = re.search(r'src="(/app/[0-9a-f]+/)app\.bundle\.js"', index).group(1)
    for name in VENDORED:
        head = httpx.get(f"{web.url}{prefix}vendor/{name}").text[:200]
        assert re.match(r"/\* [a-z-]+@\d+\.\d+\.\d+ .*licence (MIT|ISC|Apache-2.0)", head), head


def test_api_docs_load_swagger_ui_from_this_origin(web: UvicornProcess) -> None:
    docs = httpx.get(web.url + "/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text and "https://" not in docs.text
    for src in re.findall(r'(?:src|href)="([^"]+)"', docs.text):
        assert httpx.get(web.url + src).status_code == 200
    assert "unsafe-eval" not in docs.headers["content-security-policy"]


def test_dev_sign_in_mints_a_token_that_the_api_accepts(web: UvicornProcess) -> None:
    users = httpx.get(web.url + "/dev/users").json()
    assert {u["role"] for u in users} >= {"police", "social_worker", "service_provider", "coordinator", "admin"}
    token = httpx.post(web.url + "/dev/token", json={"user": "police-una-sana"}).json()["access_token"]
    listed = httpx.get(web.url + "/api/v1/questionnaires", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    unknown = httpx.post(web.url + "/dev/token", json={"user": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.user"


@pytest.mark.parametrize("environment", ["production", "test"])
async def test_the_token_minting_endpoint_does_not_exist_outside_dev(environment: str) -> None:
    settings = GatewaySettings(environment=environment, jwt_secret=new_secret())
    app = Gateway(settings, configure_logs=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for method, path in (("POST", "/dev/token"), ("GET", "/dev/users")):
            answer = await client.request(method, path, json={"user": "admin"} if method == "POST" else None)
            assert answer.status_code == 404, (method, path, answer.text)
        page = await client.get("/")
        assert page.status_code == 200 and '"devSignIn": false' in page.text.replace("&quot;", '"')


async def test_a_gateway_deployed_without_the_app_still_serves_the_api(tmp_path) -> None:
    settings = GatewaySettings(environment="test", jwt_secret=new_secret(), web_root=str(tmp_path / "absent"))
    app = Gateway(settings, configure_logs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/")).status_code == 404


def test_the_page_announces_the_catalogue_of_the_browsers_language(web: UvicornProcess) -> None:
    def preloaded(accept_language: str) -> list[str]:
        page = httpx.get(web.url + "/", headers={"accept-language": accept_language})
        assert "accept-language" in page.headers["vary"]
        return re.findall(r'modulepreload" href="/app/[0-9a-f]+/(app\.i18n\.[a-zA-Z-]+\.js)"', page.text)

    assert preloaded("bs-BA,bs;q=0.9,en;q=0.8") == ["app.i18n.bs.js"]
    assert preloaded("hr-HR") == ["app.i18n.hr.js"]
    assert preloaded("sr-RS") == ["app.i18n.sr-Cyrl.js"]  # Serbian is Cyrillic unless the tag says Latin
    assert preloaded("sr-Latn-BA,sr;q=0.8") == ["app.i18n.sr-Latn.js"]
    assert preloaded("fa-AF") == ["app.i18n.fa-AF.js"]  # Dari
    assert preloaded("de;q=0.9, fa;q=0.5") == ["app.i18n.fa.js"]
    assert preloaded("ar-SY,ar;q=0.9") == ["app.i18n.ar.js"]
    assert preloaded("en-US,en;q=0.9,bs;q=0.8") == []  # English comes with the app itself
    assert preloaded("") == []
