"""Role aliases shared by every service's routes: each names who may call a route, defined once.

`Authorize` checks the token and the roles; these aliases are the groups the services reuse. A role
group only one service needs stays in that service's api module.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from putokaz.auth import ROLES, Authorize, Principal

# Staff who meet people: police officers and social workers screen and refer.
FRONTLINE = ("police", "social_worker")
# Every role of the referral mechanism (directory reads are open to all of them). The strategy's
# `reporter` is not one: an institution's focal point reports on the action plan and needs no directory.
# Nor is the `trainee`: practice is on fictional cases only, so a trainee reads nothing real.
EVERYONE = tuple(role for role in ROLES if role not in ("reporter", "trainee"))

Frontline = Annotated[Principal, Depends(Authorize(*FRONTLINE))]
FrontlineOrAdmin = Annotated[Principal, Depends(Authorize(*FRONTLINE, "admin"))]
Admin = Annotated[Principal, Depends(Authorize("admin"))]
Anyone = Annotated[Principal, Depends(Authorize(*EVERYONE))]
