"""Command-line import of historical anonymised facts: `python -m services.registry.import_csv FILE`.

Validates every row first (progress bar on stderr), then writes all facts in one transaction, or none.
Exit status 0 when imported, 1 when the file was rejected (the per-row report is printed), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import Database
from services.registry import imports
from services.registry.settings import Settings


class ProgressBar:
    """A one-line text progress bar, redrawn at most ten times a second."""

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label = label
        self.stream = stream
        self.width = width
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        fraction = min(1.0, done / total) if total else 1.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label:<10} [{bar}] {fraction:6.1%} {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


async def import_file(text: str, kind: imports.ImportKind, database_url: str, max_rows: int) -> int:
    db = Database(database_url)
    try:
        async with db.sessionmaker() as session, session.begin():
            now = SYSTEM_CLOCK.now()
            record = imports.new_import(kind, "command-line", "command-line", now)
            record = await imports.run_import(
                session,
                record,
                text,
                now=now,
                max_rows=max_rows,
                progress=ProgressBar("validating"),
                write_progress=ProgressBar("writing"),
            )
            status, imported, total, report = record.status, record.rows_imported, record.rows_total, record.errors
            import_id = record.id
    finally:
        await db.dispose()
    if status != "completed":
        import json

        errors = json.loads(report)
        print(f"rejected: {len(errors)} error(s), nothing imported (import {import_id})", file=sys.stderr)
        for error in errors[:200]:
            column = f" column {error['field']}" if error.get("field") else ""
            print(f"  row {error['row']}{column}: {error['message']}", file=sys.stderr)
        return 1
    print(f"imported {total} row(s), {imported} written (new or newer versions) (import {import_id})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.import_csv", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--kind", choices=["screening", "referral"], default="screening")
    parser.add_argument("--database-url", help="default: PUTOKAZ_DATABASE_URL or the dev SQLite file")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"{args.file} is not a file")
    settings = Settings()
    url = args.database_url or settings.database_url
    if not url:
        parser.error("no database: set PUTOKAZ_DATABASE_URL or pass --database-url")
    text = args.file.read_text(encoding="utf-8-sig")
    return asyncio.run(import_file(text, args.kind, url, settings.import_max_rows))


if __name__ == "__main__":
    sys.exit(main())
