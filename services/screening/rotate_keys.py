"""Re-encrypts identity and answers under the active key: `python -m services.screening.rotate_keys`.

Rotation: add a new key to PUTOKAZ_IDENTITY_KEYS, make it PUTOKAZ_IDENTITY_ACTIVE_KEY, restart the
service (new values use it at once), run this command, then retire the old key once it reports 0 left.
In dev, `--new-dev-key` adds and activates a fresh key in var/ first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from sqlalchemy import or_, select

from putokaz.db import Database
from putokaz.keystore import DataKeyStore
from services.screening.identity import Keyring, KeyringError, new_key
from services.screening.models import Screening
from services.screening.settings import Settings
from services.screening.vault import DATA_KEY_PREFIX

FIELDS = (("identity_ct", "identity"), ("answers_ct", "answers"))


async def rotate(db: Database, keyring: Keyring, batch_size: int = 200, store: DataKeyStore | None = None) -> int:
    """Re-encrypt every value not under the active key; returns how many screenings and data keys changed.

    Values under a screening's own data key (`dk:`) stay as they are: re-wrapping the data key is enough.
    """
    prefix = f"{keyring.active}:"
    changed = await store.rewrap() if store is not None else 0
    while True:
        async with db.sessionmaker() as session, session.begin():
            stale = or_(
                *(
                    (getattr(Screening, column).is_not(None))
                    & ~getattr(Screening, column).startswith(prefix)
                    & ~getattr(Screening, column).startswith(DATA_KEY_PREFIX)
                    for column, _ in FIELDS
                )
            )
            rows = (await session.scalars(select(Screening).where(stale).limit(batch_size).with_for_update())).all()
            for row in rows:
                for column, field in FIELDS:
                    envelope = getattr(row, column)
                    if envelope is None or envelope.startswith(DATA_KEY_PREFIX):
                        continue
                    if keyring.key_id(envelope) != keyring.active:
                        context = f"screening:{row.id}:{field}"
                        setattr(row, column, keyring.encrypt(keyring.decrypt(envelope, context), context))
            changed += len(rows)
        if len(rows) < batch_size:
            return changed


def add_dev_key(settings: Settings) -> str:
    path = settings.identity_dev_keys_file
    settings.keyring()  # creates the file on first use
    config = json.loads(path.read_text())
    keys = json.loads(config["identity_keys"])
    kid = f"dev-{os.urandom(4).hex()}"
    keys[kid] = new_key()
    config["identity_keys"] = json.dumps(keys)
    config["identity_active_key"] = kid
    path.write_text(json.dumps(config))
    return kid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rotate_keys", description=__doc__)
    parser.add_argument("--database-url", help="defaults to PUTOKAZ_DATABASE_URL or the dev SQLite file")
    parser.add_argument("--new-dev-key", action="store_true", help="dev only: add and activate a new key in var/")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.new_dev_key:
        if settings.environment == "production" or settings.identity_keys:
            sys.exit("--new-dev-key only works with the generated dev keys; configure keys in the environment")
        print(f"added and activated dev key {add_dev_key(settings)}")
    try:
        keyring = settings.keyring()
    except KeyringError as exc:
        sys.exit(str(exc))
    db = Database(args.database_url or settings.database_url or "")
    store = DataKeyStore(Database(settings.keystore_url()), keyring)

    async def run() -> int:
        try:
            await store.ensure_schema()
            return await rotate(db, keyring, store=store)
        finally:
            await db.dispose()
            await store.db.dispose()

    print(f"re-encrypted {asyncio.run(run())} screenings and data keys under key {keyring.active}")


if __name__ == "__main__":
    main()
