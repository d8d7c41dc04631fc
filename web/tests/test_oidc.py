"""Sign-in through a real OpenID Connect provider (oidc-provider-mock) with the authorization code flow + PKCE.

The provider issues RS256 tokens; the gateway and the screening service verify them against its JWKS,
so an API call made with the signed-in token proves the services accept the provider's tokens.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from putokaz.testing import PostgresServer, UvicornProcess, free_port, service_migrations

CLIENT_ID = "putokaz-web"
TOKEN_SECONDS = 8
AUDIENCE = "putokaz"
OFFICER = {"sub": "officer-oidc-1", "roles": ["police"], "org": "demo-police-una-sana", "name": "Officer Oidc"}


def access_token_generator(client: Any, grant_type: str, user: Any, scope: str) -> str:
    """JWT access tokens (like Keycloak's) signed with the provider's own key; the mock's default is opaque."""
    import time

    import flask
    from authlib.jose import jwt

    key = flask.g.oidc_provider_mock_storage.jwk
    now = int(time.time())
    claims = {
        "iss": flask.request.host_url.rstrip("/"),
        "aud": AUDIENCE,
        "sub": user.sub,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "roles": user.claims["roles"],
        "org": user.claims["org"],
        "name": user.claims["name"],
    }
    return jwt.encode({"alg": "RS256", "kid": key.as_dict()["kid"]}, claims, key).decode()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    import flask
    from authlib.oauth2.rfc7636 import CodeChallenge
    from oidc_provider_mock import User, init_app
    from oidc_provider_mock import _app as provider_internals
    from werkzeug.serving import make_server

    # The app is a public client (no secret; it sends a PKCE challenge). oidc-provider-mock 0.3 (the last
    # release for Python 3.11) accepts only client_secret_basic at its token endpoint and does not check
    # PKCE; configure it as a production provider is (Keycloak: "PKCE required"): public clients allowed,
    # and authlib's own RFC 7636 check on every code, with the challenge kept beside the code it was sent with.
    challenges: dict[str, tuple[str | None, str | None]] = {}

    class RequiredPkce(CodeChallenge):
        def get_authorization_code_challenge(self, authorization_code: Any) -> str | None:
            return challenges.get(authorization_code.code, (None, None))[0]

        def get_authorization_code_challenge_method(self, authorization_code: Any) -> str | None:
            return challenges.get(authorization_code.code, (None, None))[1]

    grant_class = provider_internals.AuthorizationCodeGrant
    save_code, create_grant = grant_class.save_authorization_code, grant_class.__init__

    def save_with_challenge(self: Any, code: str, request: Any) -> None:
        save_code(self, code, request)
        challenges[code] = (
            request.payload.data.get("code_challenge"),
            request.payload.data.get("code_challenge_method"),
        )

    def grant_with_pkce(self: Any, *args: Any, **kwargs: Any) -> None:
        create_grant(self, *args, **kwargs)
        RequiredPkce(required=True)(self)

    patches = pytest.MonkeyPatch()
    patches.setattr(grant_class, "save_authorization_code", save_with_challenge)
    patches.setattr(grant_class, "__init__", grant_with_pkce)
    for grant in (grant_class, provider_internals.RefreshTokenGrant):
        patches.setattr(grant, "TOKEN_ENDPOINT_AUTH_METHODS", ["none", "client_secret_basic", "client_secret_post"])
    app = flask.Flask("oidc_provider_mock")  # its templates are found beside that package
    app.secret_key = b"test-only-session-key-0123456789"
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = access_token_generator
    user = User(sub=OFFICER["sub"], claims={k: v for k, v in OFFICER.items() if k != "sub"})
    init_app(app, user_claims=[user], access_token_max_age=timedelta(seconds=TOKEN_SECONDS))

    @app.after_request
    def allow_the_app(response: flask.Response) -> flask.Response:
        # The app calls discovery and the token endpoint from its own origin (a provider's "web origins").
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        return response

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        patches.undo()


@pytest.fixture(scope="module")
def oidc_gateway(
    provider: str, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UvicornProcess]:
    """The screening service and a gateway that trust only the provider's RS256 keys."""
    logs = tmp_path_factory.mktemp("oidc-logs")
    trust = {
        "PUTOKAZ_ENVIRONMENT": "test",
        "PUTOKAZ_JWT_ALGORITHMS": '["RS256"]',
        "PUTOKAZ_JWKS_URL": provider + "/jwks",
        "PUTOKAZ_JWT_ISSUER": provider,
        "PUTOKAZ_JWT_AUDIENCE": AUDIENCE,
    }
    database = postgres_server.create_database("oidc_screening", service_migrations("screening"))
    screening = UvicornProcess(
        "services.screening.app:create_app",
        {**trust, "PUTOKAZ_DATABASE_URL": database},
        log_path=logs / "screening.log",
    ).start(timeout=120)
    gateway = UvicornProcess(
        "gateway.app:create_app",
        {
            **trust,
            "PUTOKAZ_SCREENING_URL": screening.url,
            "PUTOKAZ_OIDC_ISSUER": provider,
            "PUTOKAZ_OIDC_CLIENT_ID": CLIENT_ID,
        },
        log_path=logs / "gateway.log",
    ).start(timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()
        screening.stop()


@pytest.fixture(scope="module")
def oidc_browser(oidc_gateway: UvicornProcess) -> Iterator[Any]:
    from web.tests.conftest import chromium

    with chromium() as launched:
        yield launched


def test_sign_in_with_the_provider_uses_pkce_keeps_the_token_in_memory_and_the_api_accepts_it(
    oidc_browser: Any, oidc_gateway: UvicornProcess, provider: str
) -> None:
    context = oidc_browser.new_context(base_url=oidc_gateway.url, viewport={"width": 360, "height": 640})
    context.set_default_timeout(15_000)
    page = context.new_page()
    authorize: list[str] = []
    refreshes: list[str] = []
    page.on("request", lambda r: authorize.append(r.url) if "/oauth2/authorize" in r.url else None)
    page.on(
        "request",
        lambda r: (
            refreshes.append(r.url)
            if r.url.endswith("/oauth2/token") and "refresh_token" in (r.post_data or "")
            else None
        ),
    )
    page.goto("/")
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.get_by_role("button", name=OFFICER["sub"]).click()  # the provider's own page
    page.get_by_role("link", name="New screening").wait_for()
    assert "code_challenge_method=S256" in authorize[0] and "code_challenge=" in authorize[0]
    assert "code=" not in page.url and "state=" not in page.url  # the one-use code leaves the address bar
    # An API call through the gateway to the screening service with the provider's token.
    page.get_by_role("link", name="Prompt sheets").click()
    page.locator(".chips").first.wait_for()
    stored = page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie")
    assert "eyJ" not in stored
    # Renewed before expiry with the refresh token (tokens live 8 s here; the app renews at 80%).
    for _ in range(200):
        if refreshes:
            break
        page.wait_for_timeout(100)
    assert refreshes
    page.wait_for_timeout(3000)  # past the first token's lifetime: calls now carry the renewed one
    page.get_by_role("link", name="Putokaz").click()
    page.get_by_role("link", name="Prompt sheets").click()
    page.locator(".chips").first.wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with your organisation account").wait_for()
    context.close()


def test_the_provider_refuses_a_code_without_the_verifier_of_its_challenge(provider: str) -> None:
    """PKCE is checked, not only sent: a stolen code is useless without the app's one-use verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:9/"
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect,
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    def new_code() -> str:
        answer = httpx.post(provider + "/oauth2/authorize", params=params, data={"sub": OFFICER["sub"]})
        assert answer.status_code in (302, 303), answer.text
        return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]

    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "redirect_uri": redirect}
    token = provider + "/oauth2/token"
    wrong = httpx.post(token, data={**form, "code": new_code(), "code_verifier": secrets.token_urlsafe(48)})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = httpx.post(token, data={**form, "code": new_code()})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    right = httpx.post(token, data={**form, "code": new_code(), "code_verifier": verifier})
    assert right.status_code == 200 and right.json()["access_token"].startswith("eyJ")
