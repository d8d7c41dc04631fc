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
# Every role a verified token can carry (directory reads are open to all of them).
EVERYONE = ROLES

Frontline = Annotated[Principal, Depends(Authorize(*FRONTLINE))]
FrontlineOrAdmin = Annotated[Principal, Depends(Authorize(*FRONTLINE, "admin"))]
Admin = Annotated[Principal, Depends(Authorize("admin"))]
Anyone = Annotated[Principal, Depends(Authorize(*EVERYONE))]
