"""Partner endpoints, deliveries and attempts of this service: the kernel's endpoint store bound to our tables.

Every query is scoped by `owner_org` (None: any partner, for admins) and raises `NotFound` outside it.
"""

from __future__ import annotations

from putokaz.events.endpoints import EndpointStore
from services.referral.models import event_tables

store = EndpointStore(event_tables)
