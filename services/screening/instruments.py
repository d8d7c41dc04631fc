"""Instrument versions: the indicator catalogue, publication (validated, immutable) and localised views."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.clock import SYSTEM_CLOCK, Clock
from putokaz.db import Database
from putokaz.errors import Conflict, Invalid, NotFound
from putokaz.vocabulary import RTL_LANGUAGES, TEXT_LANGUAGES
from services.screening.definitions import InstrumentDefinition, Question, Texts
from services.screening.models import Questionnaire

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
CATALOGUE_FILE = INSTRUMENTS_DIR / "indicators.yaml"
logger = logging.getLogger("putokaz.screening.instruments")


ILO_LISTS = ("adult_labour", "adult_sexual", "child_labour", "child_sexual")


@lru_cache(maxsize=1)
def indicator_catalogue() -> dict[str, dict[str, Any]]:
    """ILO/EC operational indicators and project additions: dimension, strength per ILO/EC list, the question."""
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    catalogue: dict[str, dict[str, Any]] = {}
    for code, entry in raw["indicators"].items():
        for name in ("text", "text_child"):
            if name in entry:
                texts = Texts.model_validate(entry[name])
                missing = [lang for lang in TEXT_LANGUAGES if not texts.has(lang)]
                if missing:
                    raise ValueError(f"{code}: {name} lacks {', '.join(missing)}")
        child = entry["lists"].get("child_labour") or entry["lists"].get("child_sexual")
        if child and "text_child" not in entry:
            raise ValueError(f"{code}: asked of children, so it needs text_child (the child's form of address)")
        if set(entry["lists"]) != set(ILO_LISTS):
            raise ValueError(f"{code}: lists must name {', '.join(ILO_LISTS)}")
        if bool(entry.get("ilo")) == bool(entry.get("addition")):
            raise ValueError(f"{code}: an indicator is either an ILO/EC indicator (ilo) or an addition")
        catalogue[code] = {**entry, "dimension": code.split(".", 1)[0]}
    return catalogue


def strengths_for(entry: dict[str, Any], population: str) -> dict[str, str]:
    """The indicator's strength in the labour and sexual lists of a population (adult or child)."""
    lists = entry["lists"]
    return {kind: lists[f"{population}_{kind}"] for kind in ("labour", "sexual") if lists.get(f"{population}_{kind}")}


def _errors_from(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        out.append({"field": f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body", "message": err["msg"]})
    return out


def resolve(raw: dict[str, Any]) -> InstrumentDefinition:
    """Fill indicator texts and strengths from the catalogue, then validate the whole version.

    The stored definition is self-contained: a later catalogue change never alters a published version.
    """
    if not isinstance(raw, dict):
        raise Invalid("An instrument must be an object", field="body")
    if "kind" in raw and raw["kind"] not in ("quick", "adult", "child"):
        raise Invalid("kind must be quick, adult or child", field="body.kind")
    data = copy.deepcopy(raw)
    kind = data.get("kind")
    catalogue = indicator_catalogue()
    errors: list[dict[str, Any]] = []
    sections = data.get("sections")
    if isinstance(sections, list):
        for s_index, section in enumerate(sections):
            questions = section.get("questions") if isinstance(section, dict) else None
            if not isinstance(questions, list):
                continue
            for q_index, question in enumerate(questions):
                if not isinstance(question, dict) or not question.get("indicator"):
                    continue
                if not isinstance(question["indicator"], str):
                    continue  # the model validation reports the wrong type
                field = f"body.sections.{s_index}.questions.{q_index}.indicator"
                entry = catalogue.get(question["indicator"])
                if entry is None:
                    errors.append({"field": field, "message": "unknown indicator"})
                    continue
                strengths = strengths_for(entry, kind) if kind in ("adult", "child") else {}
                if not strengths:
                    errors.append({"field": field, "message": f"indicator does not apply to a {kind} instrument"})
                    continue
                strength = strengths.get("labour") or strengths["sexual"]
                if question.get("strength") not in (None, strength):
                    errors.append({"field": field, "message": f"strength must be {strength} (catalogue)"})
                if question.get("strengths") not in (None, strengths):
                    errors.append({"field": field, "message": "strengths must equal the catalogue's lists"})
                question["strength"] = strength
                question["strengths"] = strengths
                if entry.get("addition"):
                    question["addition"] = entry["addition"]["form"]
                elif question.get("addition") is not None:
                    errors.append({"field": field, "message": "only the catalogue's additions are additions"})
                # A child is addressed as a child ("ti", "tu", "تو", …) throughout the child instrument.
                question.setdefault("text", entry["text_child"] if kind == "child" else entry["text"])
    if errors:
        raise Invalid("The instrument refers to indicators it may not use", errors=errors)
    try:
        definition = InstrumentDefinition.model_validate(data)
    except ValidationError as exc:
        errors = _errors_from(exc, "body.")
        raise Invalid(f"The instrument is not valid: {errors[0]['message']}", errors=errors) from None
    missing = definition.missing_texts()
    if missing:
        raise Invalid(
            "Every text must exist in every language",
            errors=[{"field": f"body.{path}", "message": "missing translation"} for path in missing],
        )
    return definition


def require_language(definition: InstrumentDefinition, language: str, field: str) -> None:
    """422 naming `field` when this version has no text in `language` (a version published before it existed)."""
    if language not in definition.languages():
        raise Invalid(
            f"This questionnaire version is not available in {language}; it is in {', '.join(definition.languages())}",
            field=field,
        )


def checksum(definition: InstrumentDefinition) -> str:
    canonical = json.dumps(definition.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def publish(
    session: AsyncSession, definition: InstrumentDefinition, published_by: str, now: datetime
) -> Questionnaire:
    """Store a new version; the same (code, version) again → 409, a version below the latest → 422."""
    existing = await session.scalar(
        select(Questionnaire).where(Questionnaire.code == definition.code, Questionnaire.version == definition.version)
    )
    if existing is not None:
        raise Conflict(f"Version {definition.version} of {definition.code} is published and cannot change")
    latest = await latest_version(session, definition.code)
    if latest is not None and latest.kind != definition.kind:
        raise Invalid("A new version must keep the instrument's kind", field="body.kind")
    if latest is not None and definition.version < latest.version:
        raise Invalid(f"The version must be above the latest ({latest.version})", field="body.version")
    row = Questionnaire(
        code=definition.code,
        version=definition.version,
        kind=definition.kind,
        definition=definition.model_dump(mode="json", exclude_none=True),
        checksum=checksum(definition),
        published_at=now,
        published_by=published_by,
    )
    session.add(row)
    await session.flush()
    return row


async def latest_version(session: AsyncSession, code: str) -> Questionnaire | None:
    return await session.scalar(
        select(Questionnaire).where(Questionnaire.code == code).order_by(Questionnaire.version.desc()).limit(1)
    )


async def get_version(session: AsyncSession, code: str, version: int | None) -> Questionnaire | None:
    if version is None:
        return await latest_version(session, code)
    return await session.scalar(
        select(Questionnaire).where(Questionnaire.code == code, Questionnaire.version == version)
    )


async def latest_of_each(session: AsyncSession) -> list[Questionnaire]:
    rows = (await session.scalars(select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version))).all()
    latest: dict[str, Questionnaire] = {}
    for row in rows:
        latest[row.code] = row
    return list(latest.values())


# Published versions are immutable, so a parsed definition is cached by row id and checksum. The
# definition column is deferred: loading and decoding its JSON on every answer was most of the work.
_DEFINITIONS: dict[tuple[int, str], InstrumentDefinition] = {}
_DEFINITIONS_MAX = 256


async def definition_of(session: AsyncSession, row: Questionnaire) -> InstrumentDefinition:
    key = (row.id, row.checksum)
    cached = _DEFINITIONS.get(key)
    if cached is None:
        raw = row.__dict__.get("definition")
        if raw is None:
            raw = (
                await session.execute(select(Questionnaire.definition).where(Questionnaire.id == row.id))
            ).scalar_one()
        cached = InstrumentDefinition.model_validate(raw)
        if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = cached
    return cached


_BY_VERSION: dict[tuple[str, int], InstrumentDefinition] = {}


async def definition_for(session: AsyncSession, code: str, version: int) -> InstrumentDefinition:
    """A published version's definition; (code, version) never changes once published, so it is cached."""
    cached = _BY_VERSION.get((code, version))
    if cached is None:
        row = await get_version(session, code, version)
        if row is None:
            raise NotFound("No such instrument version")
        cached = await definition_of(session, row)
        if len(_BY_VERSION) >= _DEFINITIONS_MAX:
            _BY_VERSION.clear()
        _BY_VERSION[(code, version)] = cached
    return cached


def builtin_files() -> list[Path]:
    return sorted(p for p in INSTRUMENTS_DIR.glob("*.yaml") if p.name != CATALOGUE_FILE.name)


async def load_builtin_instruments(db: Database, clock: Clock = SYSTEM_CLOCK) -> int:
    """Publish the instrument files not yet in the database (idempotent; safe when processes race)."""
    loaded = 0
    for path in builtin_files():
        definition = resolve(yaml.safe_load(path.read_text(encoding="utf-8")))
        async with db.sessionmaker() as session:
            existing = await get_version(session, definition.code, definition.version)
            if existing is not None:
                if existing.checksum != checksum(definition):
                    logger.warning(
                        "instrument file differs from its published version; publish a new version instead",
                        extra={"code": definition.code, "version": definition.version},
                    )
                continue
            try:
                await publish(session, definition, published_by="builtin", now=clock.now())
                await session.commit()
                loaded += 1
            except (Conflict, IntegrityError):
                await session.rollback()
    return loaded


def _also(question: Question, language: str) -> dict[str, Any]:
    text = question.text.get(language)
    out: dict[str, Any] = {"language": language, "text": text.text, "text_status": text.status}
    if question.help is not None:
        out["help"] = question.help.get(language).text
    if question.options:
        out["options"] = [{"code": o.code, "label": o.label.get(language).text} for o in question.options]
    return out


def localised_question(question: Question, language: str, also: str | None = None) -> dict[str, Any]:
    text = question.text.get(language)
    out: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "text": text.text,
        "text_status": text.status,
        "required": question.required,
    }
    if question.help is not None:
        out["help"] = question.help.get(language).text
    if question.options:
        out["options"] = [{"code": o.code, "label": o.label.get(language).text} for o in question.options]
    if question.indicator:
        out["indicator"] = {
            "code": question.indicator,
            "strength": question.strength,
            "strengths": question.strengths or {"labour": question.strength, "sexual": question.strength},
            "source": "project_addition" if question.addition else "ilo_ec_2009",
        }
    for name in ("vulnerability", "role", "minimum", "maximum", "max_length"):
        value = getattr(question, name)
        if value is not None:
            out[name] = value
    if question.urgent:
        out["urgent"] = True
    if question.show_if is not None:
        out["show_if"] = question.show_if.model_dump()
    if also is not None:
        out["also"] = _also(question, also)
    return out


def localised(
    row: Questionnaire, definition: InstrumentDefinition, language: str, *, full: bool = True, also: str | None = None
) -> dict[str, Any]:
    """The version in the person's language; with `also`, every text in a second (the screener's) language too."""
    require_language(definition, language, "query.lang")
    if also is not None:
        require_language(definition, also, "query.also")
    out: dict[str, Any] = {
        "code": row.code,
        "version": row.version,
        "kind": row.kind,
        "language": language,
        "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
        "title": definition.title.get(language).text,
        "published_at": row.published_at,
        "languages": list(definition.languages()),
    }
    if also is not None:
        out["also"] = {
            "language": also,
            "direction": "rtl" if also in RTL_LANGUAGES else "ltr",
            "title": definition.title.get(also).text,
        }
    if not full:
        return out
    if definition.description is not None:
        out["description"] = definition.description.get(language).text
    out["consent"] = {
        "version": definition.consent.version,
        "text": definition.consent.text.get(language).text,
        "text_status": definition.consent.text.get(language).status,
    }
    if also is not None:
        out["consent"]["also"] = {
            "language": also,
            "text": definition.consent.text.get(also).text,
            "text_status": definition.consent.text.get(also).status,
        }
    out["sections"] = [
        {
            "id": s.id,
            "title": s.title.get(language).text,
            **({"also": {"title": s.title.get(also).text}} if also is not None else {}),
            "questions": [localised_question(q, language, also) for q in s.questions],
        }
        for s in definition.sections
    ]
    return out
