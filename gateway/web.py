"""The frontline web app and the API docs, served by the gateway from `web/` on the API's own origin.

Same origin as /api/v1, so the app needs no CORS and its CSP can say `connect-src 'self'`. There is
no build step: every file under web/app/ is served as it is, under /app/<version>/, where the version
is a hash of the files. Those URLs never change meaning, so they are cached for a year (immutable);
only `/`, `/sw.js` and the manifest are revalidated, and they name the current version.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from gateway.bundle import BOOT_NAME, BundleError, link
from gateway.devsignin import DevSignIn
from gateway.headers import BASE_SECURITY_HEADERS
from gateway.settings import GatewaySettings
from putokaz.errors import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger("putokaz.gateway")
# The linked modules (gateway/bundle.py), served beside the sources under /app/<version>/: what the
# sign-in page needs, and one file per part it loads once it runs (app.screens.index.js, …).
BUNDLE = BOOT_NAME
# Screens that need the network anyway (the console's figures come from the API): the service worker
# does not keep them, so a phone's first load does not fetch a chart library it may never use.
ONLINE_ONLY = ("console/", "app.console.", "vendor/uplot.", "i18n/console/", "app.i18n.console.")
# UI catalogues other than English: the worker keeps the one a screener uses when it is fetched
# (web/sw.js), not all twelve languages on every phone's first load.
KEPT_WHEN_USED = re.compile(r"(app\.i18n\.|i18n/)(?!en\.js$)[\w-]+\.js$")
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
COMMON_HEADERS: list[tuple[bytes, bytes]] = [
    *BASE_SECURITY_HEADERS,
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


def app_csp(issuer: str | None) -> bytes:
    """No inline script, no eval, nothing from a third party; the OIDC provider only for its token calls."""
    provider = ""
    if issuer:
        parts = urlsplit(issuer)
        provider = f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src 'self'{provider}; manifest-src 'self'; worker-src 'self'; form-action 'self'{provider}; "
        "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    ).encode()


# Swagger UI writes style attributes and <style> elements at run time, so its page allows inline
# styles; scripts stay 'self' only (the bundle needs no eval).
DOCS_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class RouteLabel:
    """How metrics and the access log name a request to the app (its path template)."""

    path: str


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str


def _asset(body: bytes, suffix: str) -> Asset:
    content_type = TYPES.get(suffix) or mimetypes.guess_type("x" + suffix)[0] or "application/octet-stream"
    compressible = content_type.startswith(("text/", "application/json", "image/svg", "application/manifest"))
    gzipped = gzip.compress(body, 9, mtime=0) if compressible and len(body) > 512 else None
    return Asset(body, gzipped, content_type)


class WebFrontend:
    """Answers `/`, `/app/<version>/…`, `/sw.js`, the manifest, `/docs` and the dev sign-in routes."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.root = Path(settings.web_root)
        self.csp = app_csp(settings.oidc_issuer)
        self.dev = DevSignIn(settings)
        self._signature: tuple[Any, ...] = ()
        self.pages: dict[str, Asset] = {}
        self.localised: dict[str, Asset] = {}  # "/" for a browser whose language has a UI catalogue
        self.app_assets: dict[str, Asset] = {}
        self.docs_assets: dict[str, Asset] = {}
        self.version = ""
        if (self.root / "index.html").is_file():
            self.load()
        else:
            # A gateway deployed without web/ still proxies the API; it just serves no app.
            logger.warning("web app not found; / and /docs are not served", extra={"web_root": str(self.root)})

    # --- files --------------------------------------------------------------------------------
    def _files(self, folder: str) -> list[Path]:
        base = self.root / folder
        return sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []

    def _stat_signature(self) -> tuple[Any, ...]:
        return tuple((str(p), p.stat().st_mtime_ns) for p in [*self._files("app"), *self._files("docs")])

    def load(self) -> None:
        """Reads web/ into memory (bodies and their gzip), and derives the version from the contents."""
        digest = hashlib.sha256()
        app: dict[str, Asset] = {}
        for path in self._files("app"):
            body = path.read_bytes()
            relative = path.relative_to(self.root / "app").as_posix()
            digest.update(relative.encode() + b"\0" + body)
            app[relative] = _asset(body, path.suffix)
        for name in ("index.html", "sw.js", "manifest.webmanifest", "docs/index.html"):
            digest.update((self.root / name).read_bytes())
        self.version = digest.hexdigest()[:12]
        self.app_assets = app
        self.docs_assets = {
            p.relative_to(self.root / "docs").as_posix(): _asset(p.read_bytes(), p.suffix) for p in self._files("docs")
        }
        prefix = f"/app/{self.version}/"
        entry, scripts, later = self._link(app)
        config = {
            "version": self.version,
            "devSignIn": self.dev.enabled,
            # The demo users ride along, so the sign-in screen needs no further round trip.
            "demoUsers": self.dev.users() if self.dev.enabled else [],
            "oidc": {
                "issuer": self.settings.oidc_issuer,
                "clientId": self.settings.oidc_client_id,
                "scope": self.settings.oidc_scope,
            }
            if self.settings.oidc_issuer
            else None,
            # The rest of the app (its part, the screens, their libraries; not the console or a catalogue):
            # the entry announces these once the sign-in screen is drawn, so they come in one round trip.
            "later": [prefix + n for n in later if not n.startswith(ONLINE_ONLY) and not KEPT_WHEN_USED.fullmatch(n)],
        }
        # The entry's imports are announced up front: the browser fetches them in parallel instead of
        # discovering each level of imports one round trip at a time (2 s apiece on Slow 3G).
        preload = "\n".join(f'<link rel="modulepreload" href="{prefix}{name}">' for name in scripts)
        # What the service worker keeps for offline use: the page, the scripts it runs, every other file
        # (styles, icons) but the PNG icons the manifest names (fetched only when installing) and what
        # works online only.
        files = [entry, *scripts, *later, *(n for n in app if not n.endswith((".js", ".png")))]
        shell = [
            "/",
            *(
                prefix + n
                for n in dict.fromkeys(files)
                if not n.startswith(ONLINE_ONLY) and not KEPT_WHEN_USED.fullmatch(n)
            ),
        ]

        def index(extra: str | None = None) -> Asset:
            links = preload + (f'\n<link rel="modulepreload" href="{prefix}{extra}">' if extra else "")
            values = {"{{PREFIX}}": prefix, "{{ENTRY}}": prefix + entry, "{{CONFIG}}": _attr(json.dumps(config))}
            return self._render("index.html", {**values, "{{PRELOAD}}": links})

        # The screener's catalogue is fetched when the app starts; the page for a browser in that language
        # announces it too, so it comes in the same round trip as the app (no English flash, no wait).
        self.localised = {
            lang: index(name)
            for lang in (p.stem for p in (self.root / "app" / "i18n").glob("*.js") if p.stem != "en")
            for name in (f"app.i18n.{lang}.js" if f"app.i18n.{lang}.js" in app else f"i18n/{lang}.js",)
        }
        self.pages = {
            "/": index(),
            "/sw.js": self._render("sw.js", {"{{VERSION}}": self.version, "{{SHELL}}": json.dumps(shell)}),
            "/manifest.webmanifest": self._render("manifest.webmanifest", {"{{PREFIX}}": prefix}),
            "/docs": self._render("docs/index.html", {"{{PREFIX}}": f"/docs/assets/{self.version}/"}),
        }
        self._signature = self._stat_signature()

    def _link(self, app: dict[str, Asset]) -> tuple[str, list[str], list[str]]:
        """(the entry script, the scripts it imports, the scripts it loads later): the linked bundles and
        their libraries when the modules link, else main.js and every module (resolved by the browser)."""
        sources = {name: asset.body.decode() for name, asset in app.items() if name.endswith(".js")}
        if self.settings.web_bundle:
            try:
                bundle = link(sources)
            except BundleError as error:
                logger.warning("web app served as separate modules", extra={"reason": str(error)})
            else:
                app[BUNDLE] = _asset(bundle.source.encode(), ".js")
                later: list[str] = []
                for chunk in bundle.chunks:
                    app[chunk.name] = _asset(chunk.source.encode(), ".js")
                    later += [chunk.name, *(v for v in chunk.vendor if v not in bundle.vendor)]
                return BUNDLE, list(bundle.vendor), later
        return "main.js", sorted(name for name in sources if name != "main.js"), []

    def _render(self, name: str, values: dict[str, str]) -> Asset:
        text = (self.root / name).read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        return _asset(text.encode(), Path(name).suffix)

    def handles(self, path: str) -> bool:
        if not self.version:
            return self.dev.handles(path)
        return (
            path in self.pages
            or path == "/index.html"
            or path.startswith(("/app/", "/docs/assets/"))
            or self.dev.handles(path)
        )

    # --- requests -----------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if self.dev.handles(path):
            scope["route"] = RouteLabel("/dev/*")
            status, body, content_type = await self.dev(method, path, receive)
            await _send(
                send,
                status,
                body,
                content_type,
                [(b"cache-control", b"no-store"), (b"content-security-policy", self.csp)],
            )
            return
        if method not in ("GET", "HEAD"):
            scope["route"] = RouteLabel("web")
            await _problem(send, 405, "Only GET is allowed here", [(b"allow", b"GET")])
            return
        if (
            self.settings.environment == "dev"
            and path in ("/", "/index.html")
            and self._stat_signature() != self._signature
        ):
            self.load()  # `make run`: an edited file is served at once, under a new version
        accept_gzip = b"gzip" in dict(scope["headers"]).get(b"accept-encoding", b"")
        if path in ("/", "/index.html"):
            scope["route"] = RouteLabel("/")
            language = _catalogue_language(dict(scope["headers"]).get(b"accept-language", b""), self.localised)
            page = self.localised.get(language, self.pages["/"])
            await _send_asset(
                send, page, REVALIDATE, self.csp, accept_gzip, method, b"accept-encoding, accept-language"
            )
            return
        page = self.pages.get(path)
        if page is not None:
            scope["route"] = RouteLabel(path)
            csp = DOCS_CSP if path == "/docs" else self.csp
            await _send_asset(send, page, REVALIDATE, csp, accept_gzip, method)
            return
        scope["route"] = RouteLabel("/app/*") if path.startswith("/app/") else "/docs/assets/*"
        prefix, assets = ("/app/", self.app_assets) if path.startswith("/app/") else ("/docs/assets/", self.docs_assets)
        version, _, name = path[len(prefix) :].partition("/")
        asset = assets.get(name) if version == self.version else None
        if asset is None:
            await _problem(send, 404, "No such file")
            return
        csp = DOCS_CSP if prefix == "/docs/assets/" else self.csp
        await _send_asset(send, asset, IMMUTABLE, csp, accept_gzip, method)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def catalogue_for(tag: str) -> str:
    """The UI catalogue's code for a language tag, as the app's `catalogueFor` (web/app/i18n.js) reads it:
    Serbian is Cyrillic unless the tag says Latin (sr-Latn-BA), Persian of Afghanistan (fa-AF, prs) is Dari."""
    parts = tag.lower().replace("_", "-").split("-")
    language = parts[0]
    if language == "sr":
        return "sr-Latn" if "latn" in parts else "sr-Cyrl"
    if language == "prs" or (language == "fa" and "af" in parts):
        return "fa-AF"
    return language


def _catalogue_language(header: bytes, available: dict[str, Asset]) -> str | None:
    """The first language of Accept-Language (by weight) that has a UI catalogue, if any."""
    tags = []
    for part in header.decode("latin-1").split(","):
        tag, _, params = part.strip().partition(";")
        weight = params.strip().removeprefix("q=")
        try:
            tags.append((-float(weight) if params else -1.0, tag.strip()))
        except ValueError:
            continue
    for _, tag in sorted(tags, key=lambda t: t[0]):
        code = catalogue_for(tag)
        if code == "en":
            return None
        if code in available:
            return code
    return None


async def _send_asset(
    send: Send,
    asset: Asset,
    cache: bytes,
    csp: bytes,
    accept_gzip: bool,
    method: str,
    vary: bytes = b"accept-encoding",
) -> None:
    headers = [(b"cache-control", cache), (b"content-security-policy", csp), (b"vary", vary)]
    body = asset.body
    if accept_gzip and asset.gzipped is not None:
        body = asset.gzipped
        headers.append((b"content-encoding", b"gzip"))
    await _send(send, 200, b"" if method == "HEAD" else body, asset.content_type.encode(), headers, len(body))


async def _problem(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(problem_body(status, detail)).encode()
    headers = [
        (b"cache-control", b"no-store"),
        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    ]
    await _send(send, status, body, PROBLEM_CONTENT_TYPE.encode(), headers + (extra or []))


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes | str,
    headers: list[tuple[bytes, bytes]],
    length: int | None = None,
) -> None:
    if isinstance(content_type, str):
        content_type = content_type.encode()
    all_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body) if length is None else length).encode()),
        *headers,
        *COMMON_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
