"""Standard Webhooks secrets and request signatures (the `standardwebhooks` package does the HMAC)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

from putokaz.clock import SYSTEM_CLOCK

SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix, not a secret)


def new_webhook_secret() -> str:
    """`whsec_` + base64 of 32 random bytes, as Standard Webhooks prescribes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(message_id: str, body: str, signing_secrets: Sequence[str], when: datetime) -> str:
    """One `v1,<sig>` per secret, space-separated: during a rotation receivers accept either."""
    return " ".join(Webhook(s).sign(msg_id=message_id, timestamp=when, data=body) for s in signing_secrets)


def signed_headers(
    message_id: str, body: str, signing_secrets: Sequence[str], when: datetime | None = None
) -> dict[str, str]:
    # The timestamp is the real wall-clock time of this attempt: receivers compare it with their own clock.
    when = when or SYSTEM_CLOCK.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature_header(message_id, body, signing_secrets, when),
        "content-type": "application/json",
        "user-agent": "Putokaz-Webhooks/0.1",
    }
