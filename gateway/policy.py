"""The one route policy table: method + path -> owning service + allowed roles. Deny by default.

Every public route is listed here and nowhere else; `/internal/*` never is. A test checks this
table against the roles each service declares on its own routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from putokaz.roles import EVERYONE, FRONTLINE

STATS = ("coordinator", "admin")
# Trainers assign fictional vignettes to groups and read their results (no person's data).
TRAINERS = ("admin", "coordinator")


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    service: str
    roles: frozenset[str]
    large_body: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[a-z_]+\}", r"[A-Za-z0-9._~\-]+", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def rule(method: str, path: str, service: str, *roles: str, large_body: bool = False) -> Rule:
    return Rule(method, path, service, frozenset(roles), large_body)


S, R, G, T = "screening", "referral", "registry", "strategy"
GATEWAY = "gateway"  # answered by the gateway itself
READERS = ("coordinator", "reporter")

POLICY: tuple[Rule, ...] = (
    # --- screening (docs/screening.md) ---
    rule("GET", "/api/v1/questionnaires", S, *FRONTLINE, "admin"),
    rule("POST", "/api/v1/questionnaires", S, "admin"),
    rule("GET", "/api/v1/questionnaires/{code}", S, *FRONTLINE, "admin"),
    rule("GET", "/api/v1/questionnaires/{code}/versions/{version}", S, *FRONTLINE, "admin"),
    rule("GET", "/api/v1/screenings/audit", S, "admin"),
    rule("GET", "/api/v1/screenings/pseudonym-keys", S, "admin"),
    rule("GET", "/api/v1/audit/screening", S, "admin"),
    rule("GET", "/api/v1/audit/screening/verify", S, "admin"),
    rule("POST", "/api/v1/screenings/lookup", S, *FRONTLINE),
    rule("POST", "/api/v1/screenings", S, *FRONTLINE),
    rule("GET", "/api/v1/screenings", S, *FRONTLINE),
    rule("GET", "/api/v1/screenings/{screening_id}", S, *FRONTLINE),
    rule("PATCH", "/api/v1/screenings/{screening_id}/answers", S, *FRONTLINE),
    rule("PUT", "/api/v1/screenings/{screening_id}/consent", S, *FRONTLINE),
    rule("POST", "/api/v1/screenings/{screening_id}/submit", S, *FRONTLINE),
    rule("POST", "/api/v1/screenings/{screening_id}/decisions", S, "police", "admin"),
    rule("GET", "/api/v1/screenings/{screening_id}/decisions", S, *FRONTLINE, "admin"),
    rule("POST", "/api/v1/screenings/{screening_id}/consent/withdraw", S, *FRONTLINE),
    rule("POST", "/api/v1/screenings/{screening_id}/erasure", S, "admin"),
    rule("GET", "/api/v1/screenings/{screening_id}/subject-access", S, "admin"),
    rule("PUT", "/api/v1/screenings/{screening_id}/legal-hold", S, "admin"),
    rule("DELETE", "/api/v1/screenings/{screening_id}/legal-hold", S, "admin"),
    # The gazetteer (public data) for the place fields of the forms; served by screening, the first to ask.
    rule("GET", "/api/v1/places", S, *EVERYONE),
    # --- screening: training mode, practice on fictional cases apart from real data (docs/training.md) ---
    rule("GET", "/api/v1/training/vignettes", S, "trainee", *FRONTLINE, *TRAINERS),
    rule("GET", "/api/v1/training/vignettes/{vignette_id}", S, "trainee", *FRONTLINE, *TRAINERS),
    rule("GET", "/api/v1/training/assignments", S, "trainee", *FRONTLINE),
    rule("POST", "/api/v1/training/practices", S, "trainee", *FRONTLINE),
    rule("GET", "/api/v1/training/practices", S, "trainee", *FRONTLINE),
    rule("GET", "/api/v1/training/practices/{practice_id}", S, "trainee", *FRONTLINE),
    rule("POST", "/api/v1/training/practices/{practice_id}/ask", S, "trainee", *FRONTLINE),
    rule("PATCH", "/api/v1/training/practices/{practice_id}/answers", S, "trainee", *FRONTLINE),
    rule("POST", "/api/v1/training/practices/{practice_id}/finish", S, "trainee", *FRONTLINE),
    rule("POST", "/api/v1/training/groups", S, *TRAINERS),
    rule("GET", "/api/v1/training/groups", S, *TRAINERS),
    rule("GET", "/api/v1/training/groups/{group_id}/results", S, *TRAINERS),
    # --- referral: directory (docs/referral.md) ---
    rule("GET", "/api/v1/organisations", R, *EVERYONE),
    rule("POST", "/api/v1/organisations", R, "admin"),
    rule("GET", "/api/v1/organisations/{organisation_id}", R, *EVERYONE),
    rule("PATCH", "/api/v1/organisations/{organisation_id}", R, "admin"),
    rule("GET", "/api/v1/locations", R, *EVERYONE),
    rule("POST", "/api/v1/locations", R, "admin", "service_provider"),
    rule("GET", "/api/v1/locations/{location_id}", R, *EVERYONE),
    rule("PATCH", "/api/v1/locations/{location_id}", R, "admin", "service_provider"),
    rule("GET", "/api/v1/services", R, *EVERYONE),
    rule("POST", "/api/v1/services", R, "admin"),
    rule("GET", "/api/v1/services/{service_id}", R, *EVERYONE),
    rule("PATCH", "/api/v1/services/{service_id}", R, "admin", "service_provider"),
    rule("PUT", "/api/v1/services/{service_id}/capacity", R, "admin", "service_provider"),
    rule("POST", "/api/v1/services/{service_id}/capacities", R, "admin", "service_provider"),
    rule("PUT", "/api/v1/services/{service_id}/capacities/{capacity_id}", R, "admin", "service_provider"),
    rule("POST", "/api/v1/matches", R, *FRONTLINE),
    # --- referral: the directory in HSDS 3.1 shape (docs/referral.md) ---
    rule("GET", "/api/v1/hsds/organizations", R, *EVERYONE),
    rule("GET", "/api/v1/hsds/services", R, *EVERYONE),
    rule("GET", "/api/v1/hsds/locations", R, *EVERYONE),
    rule("GET", "/api/v1/hsds/service_at_locations", R, *EVERYONE),
    rule("POST", "/api/v1/hsds/import", R, "admin"),
    # --- referral: referrals ---
    rule("POST", "/api/v1/referrals", R, *FRONTLINE),
    rule("GET", "/api/v1/referrals", R, *FRONTLINE, "service_provider", "partner"),
    rule("GET", "/api/v1/referrals/{referral_id}", R, *FRONTLINE, "service_provider", "partner"),
    rule("POST", "/api/v1/referrals/{referral_id}/transitions", R, *FRONTLINE, "service_provider"),
    rule("GET", "/api/v1/referrals/{referral_id}/history", R, *FRONTLINE, "service_provider", "partner"),
    rule("GET", "/api/v1/subject-access/referrals/{screening_id}", R, "admin"),
    # --- referral: partner webhooks (docs/events.md) ---
    rule("GET", "/api/v1/webhooks/event-types", R, "partner", "admin"),
    rule("POST", "/api/v1/webhooks/endpoints", R, "partner", "admin"),
    rule("GET", "/api/v1/webhooks/endpoints", R, "partner", "admin"),
    rule("GET", "/api/v1/webhooks/endpoints/{endpoint_id}", R, "partner", "admin"),
    rule("PATCH", "/api/v1/webhooks/endpoints/{endpoint_id}", R, "partner", "admin"),
    rule("DELETE", "/api/v1/webhooks/endpoints/{endpoint_id}", R, "partner", "admin"),
    rule("POST", "/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", R, "partner", "admin"),
    rule("POST", "/api/v1/webhooks/endpoints/{endpoint_id}/test", R, "partner", "admin"),
    rule("GET", "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries", R, "partner", "admin"),
    rule("GET", "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts", R, "partner", "admin"),
    rule("POST", "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", R, "partner", "admin"),
    rule("POST", "/api/v1/webhooks/endpoints/{endpoint_id}/replay-failed", R, "partner", "admin"),
    rule("GET", "/api/v1/audit/referral", R, "admin"),
    rule("GET", "/api/v1/audit/referral/verify", R, "admin"),
    # --- registry (docs/registry.md) ---
    rule("GET", "/api/v1/stats/indicators/{name}", G, *STATS),
    rule("GET", "/api/v1/stats/{table}", G, *STATS),
    rule("GET", "/api/v1/stats/{table}/series", G, *STATS),
    rule("GET", "/api/v1/reports/{report}", G, *STATS),
    rule("POST", "/api/v1/releases", G, "coordinator"),
    rule("GET", "/api/v1/releases/{year}", G, *STATS),
    rule("GET", "/api/v1/releases/{year}/versions/{version}", G, *STATS),
    rule("POST", "/api/v1/imports", G, "admin", large_body=True),
    rule("GET", "/api/v1/imports/{import_id}", G, "admin"),
    rule("GET", "/api/v1/audit/registry", G, "admin"),
    rule("GET", "/api/v1/audit/registry/verify", G, "admin"),
    # --- strategy monitor (services/strategy) ---
    rule("GET", "/api/v1/plans", T, "coordinator"),
    rule("POST", "/api/v1/plans", T, "coordinator"),
    rule("POST", "/api/v1/plans/import", T, "coordinator"),
    rule("GET", "/api/v1/plans/{plan_id}", T, "coordinator"),
    rule("PATCH", "/api/v1/plans/{plan_id}", T, "coordinator"),
    rule("GET", "/api/v1/plans/{plan_id}/audit", T, "coordinator", "admin"),
    rule("POST", "/api/v1/plans/{plan_id}/refresh", T, "coordinator"),
    rule("GET", "/api/v1/measures", T, *READERS),
    rule("GET", "/api/v1/measures/{measure_id}", T, *READERS),
    rule("PATCH", "/api/v1/measures/{measure_id}", T, "coordinator"),
    rule("PATCH", "/api/v1/measures/{measure_id}/activities/{activity_id}", T, *READERS),
    rule("GET", "/api/v1/indicators", T, *READERS),
    rule("GET", "/api/v1/indicators/{indicator_id}", T, *READERS),
    rule("PATCH", "/api/v1/indicators/{indicator_id}", T, "coordinator"),
    rule("POST", "/api/v1/indicators/{indicator_id}/reports", T, "reporter"),
    rule("POST", "/api/v1/indicators/{indicator_id}/reports/{report_id}/review", T, "coordinator"),
    rule("GET", "/api/v1/indicators/{indicator_id}/reports/{report_id}/evidence", T, *READERS),
    rule("GET", "/api/v1/progress/{plan_id}", T, *READERS),
    rule("GET", "/api/v1/progress/{plan_id}/export", T, "coordinator"),
    rule("GET", "/api/v1/audit/strategy", T, "admin"),
    rule("GET", "/api/v1/audit/strategy/verify", T, "admin"),
    # --- the gateway itself: token revocation ---
    rule("POST", "/api/v1/revocations", GATEWAY, "admin"),
    rule("GET", "/api/v1/revocations", GATEWAY, "admin"),
    rule("GET", "/api/v1/revocations/verify", GATEWAY, "admin"),
)


class Policy:
    """Finds the rule for a request; exact paths are looked up first, templated ones in table order."""

    def __init__(self, rules: tuple[Rule, ...] = POLICY) -> None:
        self.rules = rules
        self._exact: dict[tuple[str, str], Rule] = {}
        self._templated: list[Rule] = []
        for r in rules:
            if "{" in r.path:
                self._templated.append(r)
            else:
                self._exact.setdefault((r.method, r.path), r)
        self._paths = {r.path for r in rules if "{" not in r.path}

    def match(self, method: str, path: str) -> Rule | None:
        found = self._exact.get((method, path))
        if found is not None:
            return found
        if path in self._paths:
            return None
        for r in self._templated:
            if r.method == method and r.pattern.match(path):
                return r
        return None

    def path_known(self, path: str) -> bool:
        return path in self._paths or any(r.pattern.match(path) for r in self._templated)

    def allowed_methods(self, path: str) -> list[str]:
        """The methods this path offers (the `Allow` header of a 405), as the matching would pick them."""
        if path in self._paths:
            methods = {r.method for r in self.rules if r.path == path}
        else:
            methods = {r.method for r in self._templated if r.pattern.match(path)}
        return sorted(methods)
