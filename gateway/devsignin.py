"""Dev-only sign-in: the demo users of `make run`, and the endpoint that mints their tokens.

It exists only when PUTOKAZ_ENVIRONMENT=dev and tokens are HMAC-signed with the dev secret; in any
other setting these paths are unknown routes (404), so a production gateway can never mint a token.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from starlette.types import Receive

from gateway.settings import GatewaySettings
from putokaz.auth import issue_token
from putokaz.errors import PROBLEM_CONTENT_TYPE, problem_body
from putokaz.settings import SYMMETRIC_ALGORITHMS

TOKEN_SECONDS = 15 * 60  # short, like a real provider's; the app renews it before it runs out


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role: str
    org: str
    org_name: str


# One per role and organisation of the demo directory that `make run` loads.
DEMO_USERS = (
    DemoUser("police-una-sana", "Amra (police officer)", "police", "demo-police-una-sana", "Una-Sana Canton Police"),
    DemoUser("sw-sarajevo", "Emir (social worker)", "social_worker", "demo-csw-sarajevo", "CSW Sarajevo"),
    DemoUser("csw-bihac", "Lejla (CSW case manager)", "service_provider", "demo-csw-bihac", "CSW Bihać"),
    DemoUser("csw-sarajevo", "Selma (CSW intake)", "service_provider", "demo-csw-sarajevo", "CSW Sarajevo"),
    DemoUser(
        "safe-house-zenica", "Jasna (safe house)", "service_provider", "demo-safe-house-zenica", "Safe house Zenica"
    ),
    DemoUser(
        "safe-house-banja-luka",
        "Milica (safe house)",
        "service_provider",
        "demo-safe-house-banja-luka",
        "Safe house Banja Luka",
    ),
    # Practises on fictional vignettes only (training mode); every real route refuses this role.
    DemoUser("trainee", "Edin (trainee)", "trainee", "demo-police-una-sana", "Una-Sana Canton Police"),
    # Runs the police's training groups (a trainer is an admin or coordinator of the trainees' organisation).
    DemoUser("trainer", "Nermin (trainer)", "admin", "demo-police-una-sana", "Una-Sana Canton Police"),
    DemoUser("coordinator", "Dario (coordinator)", "coordinator", "demo-state-coordinator", "State Coordinator"),
    DemoUser("reporter", "Amra (focal point)", "reporter", "demo-ministry-security", "Ministry of Security"),
    DemoUser("partner", "Partner NGO system", "partner", "demo-partner-ngo", "Partner NGO"),
    DemoUser("admin", "Administrator", "admin", "demo-admin", "Putokaz administration"),
)
PATHS = ("/dev/users", "/dev/token")


class DevSignIn:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.secret = settings.resolved_jwt_secret() if set(settings.jwt_algorithms) <= SYMMETRIC_ALGORITHMS else None
        self.enabled = settings.environment == "dev" and bool(self.secret)

    def users(self) -> list[dict[str, str]]:
        return [asdict(u) for u in DEMO_USERS]

    def handles(self, path: str) -> bool:
        return self.enabled and path in PATHS

    async def __call__(self, method: str, path: str, receive: Receive) -> tuple[int, bytes, str]:
        if path == "/dev/users":
            if method != "GET":
                return _problem(405, "Only GET is allowed here")
            return 200, json.dumps([asdict(u) for u in DEMO_USERS]).encode(), "application/json"
        if method != "POST":
            return _problem(405, "Only POST is allowed here")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 4096:
                return _problem(413, "The request body is too large")
            if not message.get("more_body"):
                break
        try:
            wanted = json.loads(body or b"{}").get("user")
        except (ValueError, AttributeError):
            return _problem(400, 'The body must be JSON like {"user": "police-una-sana"}')
        user = next((u for u in DEMO_USERS if u.id == wanted), None)
        if user is None:
            return _problem(422, "No such demo user", [{"field": "body.user", "message": "unknown demo user"}])
        assert self.secret is not None
        token = issue_token(
            self.secret,
            sub=f"demo-{user.id}",
            roles=[user.role],
            org=user.org,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            ttl_seconds=TOKEN_SECONDS,
        )
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS, "user": asdict(user)}
        return 200, json.dumps(answer).encode(), "application/json"


def _problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> tuple[int, bytes, str]:
    body = problem_body(status, detail)
    if errors:
        body["errors"] = errors
    return status, json.dumps(body).encode(), PROBLEM_CONTENT_TYPE
