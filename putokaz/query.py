"""Unknown query parameters are refused (422 naming each one), never silently ignored.

A misspelt filter (`?created_from=` for `created_after`) that is ignored answers the whole list, and
the caller believes it filtered. The kernel's app factory adds `Depends(reject_unknown_query)` to every
router a service gives it, so every route of every service refuses them; the allowed names are the route's
own declared query parameters, so the list cannot drift from the code.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from putokaz.errors import Invalid


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared(route: APIRoute) -> frozenset[str]:
    # Walked per request (a handful of dependants): route objects are not hashable, and an id-keyed
    # cache could outlive a route and answer for another one.
    return frozenset(_query_names(route.dependant))


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _declared(route)
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if unknown:
        raise Invalid(
            "Unknown query parameter" + ("s" if len(unknown) > 1 else ""),
            errors=[
                {"field": f"query.{name[:40]}", "message": "not a parameter of this route"} for name in unknown[:20]
            ],
        )
