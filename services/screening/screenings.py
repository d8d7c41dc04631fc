"""The screening workflow: start, answer, submit, identification decisions, lookup; no HTTP here."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import idempotency
from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid, NotFound
from putokaz.events import emit
from putokaz.vocabulary import age_band
from services.screening import instruments, pseudonyms, repository
from services.screening.answers import evaluate, merge_answers, missing_required
from services.screening.definitions import InstrumentDefinition
from services.screening.identity import Keyring, legacy_normalise_person, normalise_document, normalise_person
from services.screening.models import BlindIndex, Decision, Screening, idempotency_keys
from services.screening.schemas import ConsentCreate, DecisionCreate, LookupRequest, ScreeningCreate, SubjectCreate
from services.screening.vault import Vault

ADULT_AGE = 18
REGISTRY_STATUS = {
    "NO_INDICATORS": "none",
    "AT_RISK": "at_risk",
    "POTENTIAL_VICTIM": "potential",
    "PRESUMED_VICTIM": "presumed",
    "IDENTIFIED_VICTIM": "identified",
    "NOT_CONFIRMED": "not_confirmed",
}


def age_in_years(subject: SubjectCreate, on: date) -> int | None:
    if subject.date_of_birth is not None:
        dob = subject.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    return subject.age_estimate


def presumed_child(subject: SubjectCreate, age: int | None) -> bool:
    """Under 18, or age unknown unless the screener states the person is clearly an adult (presumption of minority)."""
    if age is not None:
        return age < ADULT_AGE
    return subject.possibly_minor is not False


async def identity_of(vault: Vault, screening: Screening) -> dict[str, Any] | None:
    """The decrypted identity; None when there is none or it has been erased."""
    return await vault.open(screening.id, "identity", screening.identity_ct)


async def answers_of(vault: Vault, screening: Screening) -> dict[str, Any]:
    return await vault.open(screening.id, "answers", screening.answers_ct) or {}


def refuse_if_erased(screening: Screening) -> None:
    if screening.erased_at is not None:
        raise Conflict("This screening's personal data has been erased; it can no longer change")


async def start(
    session: AsyncSession, vault: Vault, principal: Principal, body: ScreeningCreate, *, now: datetime
) -> Screening:
    keyring = vault.keyring
    subject = body.subject
    age = age_in_years(subject, now.date())
    child = presumed_child(subject, age)
    code = body.instrument or ("child" if child else "adult")
    row = await instruments.get_version(session, code, body.version)
    if row is None:
        raise Invalid(
            "No published instrument with this code and version", field="version" if body.version else "instrument"
        )
    if row.kind == "adult" and child:
        raise Invalid(
            "The date of birth or age makes this person a child (under 18), or a possible minor: the child "
            "instrument applies",
            field="body.instrument",
        )
    if row.kind == "child" and not child:
        raise Invalid(
            "The child instrument is for persons under 18 or of unknown age who may be minors",
            field="body.instrument",
        )
    definition = await instruments.definition_of(session, row)
    instruments.require_language(definition, body.language, "body.language")
    if child:
        consent_referral = "not_required"
        consent_version = definition.consent.version
        if body.consent is not None and body.consent.text_version != definition.consent.version:
            raise Invalid(
                "The date of birth or age makes this person a child (under 18): the child instrument applies and a "
                "child's screening asks no consent. Send no consent, or correct the date of birth.",
                field="body.consent",
            )
    elif body.consent is None:
        # Consent may be recorded later, before submit (PUT …/consent): the conversation can start first.
        consent_referral = "pending"
        consent_version = None
    else:
        consent_referral = body.consent.referral
        consent_version = body.consent.text_version
        if consent_version != definition.consent.version:
            raise Invalid(
                f"The consent text version of this instrument is {definition.consent.version}",
                field="body.consent.text_version",
            )
    anonymous = not child and consent_referral == "declined"
    screening_id = str(uuid.uuid4())
    identity = None if anonymous else _identity_payload(subject)
    normalised = normalise_person(subject.given_name, subject.family_name, _iso(subject.date_of_birth))
    # Without a name (or anonymous) the person cannot be re-recognised: a random pseudonym counts them once.
    keyed = normalised is not None and not anonymous
    subject_key = keyring.subject_key(normalised) if keyed else secrets.token_hex(32)
    screening = Screening(
        id=screening_id,
        org_id=principal.org,
        screener_sub=principal.sub,
        questionnaire_id=row.id,
        instrument_code=row.code,
        instrument_version=row.version,
        instrument_kind=row.kind,
        language=body.language,
        entity=body.place.entity,
        canton=body.place.canton,
        municipality=body.place.municipality,
        consent_text_version=consent_version,
        consent_referral=consent_referral,
        anonymous=anonymous,
        child=child,
        age_band=age_band(age),
        sex=subject.sex,
        citizenship=subject.citizenship,
        identity_ct=await vault.seal(screening_id, "identity", identity, new=True) if identity else None,
        answers_ct=None,
        state="draft",
        urgent=False,
        subject_key=subject_key,
        subject_key_id=keyring.pseudonym_active if keyed else None,
        fact_id=str(uuid.uuid4()),
        fact_version=0,
        started_at=now,
        updated_at=now,
    )
    session.add(screening)
    await session.flush()
    if keyed and normalised is not None:
        # Announced before this screening's own fact: the registry re-keys the person's earlier facts first.
        await pseudonyms.announce_earlier_pseudonyms(session, keyring, normalised, subject_key, screening.fact_id)
    if not anonymous:
        _add_blind_index(session, keyring, screening, subject, normalised)
    await emit_consent_state(session, screening, now)
    repository.audit(session, principal, "create", screening_id)
    return screening


async def start_once(
    session: AsyncSession,
    vault: Vault,
    principal: Principal,
    body: ScreeningCreate,
    key: str | None,
    *,
    now: datetime,
) -> Screening:
    """`start`, unless this caller already started a screening with this Idempotency-Key: then that one (a read)."""
    if key is None:
        return await start(session, vault, principal, body, now=now)
    # Keyed with the blind-index key: the body holds the person's identity.
    print_ = idempotency.fingerprint(body.model_dump(mode="json"), vault.keyring.blind_index_key)
    earlier = await idempotency.claim(session, idempotency_keys, principal, key, print_, now)
    if earlier is None:
        screening = await start(session, vault, principal, body, now=now)
        await idempotency.remember(session, idempotency_keys, principal, key, screening.id)
        return screening
    screening = await repository.get_screening(session, principal.org, earlier)
    if screening is None:
        raise Conflict("The screening created with this Idempotency-Key no longer exists")
    repository.audit(session, principal, "read", screening.id)
    return screening


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _identity_payload(subject: SubjectCreate) -> dict[str, Any] | None:
    payload = subject.model_dump(
        mode="json",
        include={
            "given_name",
            "family_name",
            "date_of_birth",
            "age_estimate",
            "possibly_minor",
            "phone",
            "documents",
            "notes",
        },
        exclude_none=True,
    )
    if not payload.get("documents"):
        payload.pop("documents", None)
    return payload or None


def _add_blind_index(
    session: AsyncSession, keyring: Keyring, screening: Screening, subject: SubjectCreate, normalised: str | None
) -> None:
    digests = []
    if normalised:
        digests.append(("name_dob", keyring.blind_index("name_dob", normalised)))
    for document in subject.documents:
        digests.append(("document", keyring.blind_index("document", normalise_document(document.number))))
    for kind, digest in dict.fromkeys(digests):
        session.add(
            BlindIndex(
                screening_id=screening.id,
                org_id=screening.org_id,
                kind=kind,
                digest=digest,
                key_id=keyring.blind_active,
            )
        )


async def load(
    session: AsyncSession, principal: Principal, screening_id: str, *, for_update: bool = False, action: str = "read"
) -> Screening:
    screening = await repository.get_screening(session, principal.org, screening_id, for_update=for_update)
    if screening is None:
        await repository.audit_refused(session, principal, action, screening_id)
        raise NotFound("No such screening")
    return screening


async def save_answers(
    session: AsyncSession,
    vault: Vault,
    principal: Principal,
    screening_id: str,
    update: dict[str, Any],
    *,
    now: datetime,
) -> Screening:
    screening = await load(session, principal, screening_id, for_update=True, action="answer")
    refuse_if_erased(screening)
    if screening.state != "draft":
        raise Conflict("The screening is submitted; answers can no longer change")
    definition = await _definition(session, screening)
    merged = merge_answers(definition, await answers_of(vault, screening), update)
    screening.answers_ct = await vault.seal(screening.id, "answers", merged)
    screening.updated_at = now
    repository.audit(session, principal, "answer", screening.id)
    return screening


async def record_consent(
    session: AsyncSession,
    principal: Principal,
    screening_id: str,
    body: ConsentCreate,
    *,
    now: datetime,
) -> Screening:
    """Record or change an adult's consent before submit, with the consent text version shown then.

    Declining referral makes the screening an anonymous notification at once: the identity and its blind
    index are erased and the pseudonym becomes random, so nothing can link the person afterwards.
    """
    screening = await load(session, principal, screening_id, for_update=True)
    if screening.state != "draft":
        raise Conflict("The screening is submitted; its consent can no longer change here")
    if screening.child:
        raise Invalid(
            "A child's screening asks no consent: the Centre for Social Welfare is always informed", field="consent"
        )
    definition = await _definition(session, screening)
    if body.text_version != definition.consent.version:
        raise Invalid(
            f"The consent text version of this instrument is {definition.consent.version}",
            field="body.text_version",
        )
    if body.referral == "given" and screening.anonymous:
        raise Conflict("The identity was erased when referral was declined; start a new screening to refer the person")
    if body.referral == "declined" and not screening.anonymous:
        screening.anonymous = True
        screening.identity_ct = None
        screening.subject_key = secrets.token_hex(32)
        screening.subject_key_id = None
        await repository.delete_blind_index(session, screening.id)
    screening.consent_text_version = body.text_version
    screening.consent_referral = body.referral
    screening.updated_at = now
    repository.audit(session, principal, "consent", screening.id)
    return screening


async def _definition(session: AsyncSession, screening: Screening) -> InstrumentDefinition:
    # A screening's version is published and never changes, so its definition is cached by (code, version).
    return await instruments.definition_for(session, screening.instrument_code, screening.instrument_version)


async def submit(
    session: AsyncSession, vault: Vault, principal: Principal, screening_id: str, *, now: datetime
) -> Screening:
    screening = await load(session, principal, screening_id, for_update=True, action="submit")
    refuse_if_erased(screening)
    if screening.state != "draft":
        raise Conflict("The screening is already submitted")
    if screening.consent_referral == "pending":
        raise Invalid(
            "Record the person's consent (PUT /api/v1/screenings/{id}/consent) before submitting", field="consent"
        )
    definition = await _definition(session, screening)
    answers = await answers_of(vault, screening)
    missing = missing_required(definition, answers)
    if missing:
        raise Invalid(
            "Required questions are unanswered",
            errors=[{"field": f"answers.{q}", "message": "required"} for q in missing],
        )
    evaluation = evaluate(
        definition, answers, child=screening.child, language=screening.language, anonymous=screening.anonymous
    )
    outcome = evaluation.decision.outcome.value
    screening.state = "submitted"
    screening.computed_outcome = outcome
    screening.outcome = outcome
    screening.urgent = evaluation.urgent
    screening.result = evaluation.as_result(screening.instrument_kind)
    screening.forms = evaluation.forms
    screening.submitted_at = now
    screening.updated_at = now
    await emit(
        session,
        "screening.submitted",
        {
            "screening_id": screening.id,
            "org": screening.org_id,
            "instrument": screening.instrument_code,
            "instrument_version": screening.instrument_version,
            "outcome": outcome,
            "urgent": screening.urgent,
            "child": screening.child,
            "anonymous": screening.anonymous,
            "recommended_service_types": evaluation.recommended_service_types,
            "submitted_at": now.isoformat().replace("+00:00", "Z"),
            # For the referral service, which refers a child to the social welfare centre where the child
            # was found; an adult's municipality stays here (it is not needed elsewhere).
            "consent_referral": screening.consent_referral,
            "place": {"entity": screening.entity, "canton": screening.canton, "municipality": screening.municipality}
            if screening.child
            else {"entity": screening.entity, "canton": screening.canton},
            "forms": list(screening.forms or []),
        },
        aggregate_id=screening.id,
    )
    await emit_fact(session, vault, screening)
    repository.audit(session, principal, "submit", screening.id)
    return screening


async def emit_consent_state(session: AsyncSession, screening: Screening, now: datetime) -> None:
    """Tell the referral service the person's consent to referral (it never asks us synchronously)."""
    await emit(
        session,
        "screening.consent_recorded",
        {
            "screening_id": screening.id,
            "org": screening.org_id,
            "child": screening.child,
            "consent_referral": screening.consent_referral,
            "consent_text_version": screening.consent_text_version,
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
        },
        aggregate_id=screening.id,
        occurred_at=now,
    )


async def emit_fact(session: AsyncSession, vault: Vault, screening: Screening) -> None:
    """The anonymised registry fact; re-emitted with version+1 whenever the outcome changes."""
    # Never a fact under a pseudonym key being retired: it would count the person apart from their
    # facts already re-keyed in the registry.
    await pseudonyms.ensure_active_key(session, vault, screening)
    screening.fact_version += 1
    when = screening.submitted_at or screening.started_at
    await emit(
        session,
        "registry.screening_fact",
        {
            "fact_id": screening.fact_id,
            "version": screening.fact_version,
            "subject_key": screening.subject_key,
            "year": when.year,
            "month": when.month,
            "age_band": screening.age_band,
            "sex": screening.sex,
            "citizenship": screening.citizenship,
            "entity": screening.entity,
            "canton": screening.canton,
            "status": REGISTRY_STATUS[screening.outcome or "NO_INDICATORS"],
            "forms": list(screening.forms or []),
            "instrument": screening.instrument_kind,
            "child": screening.child,
            "anonymous": screening.anonymous,
        },
        aggregate_id=screening.fact_id,
    )


async def decide(
    session: AsyncSession, vault: Vault, principal: Principal, screening_id: str, body: DecisionCreate, *, now: datetime
) -> Decision:
    screening = await load(session, principal, screening_id, for_update=True, action="decide")
    if screening.state != "submitted":
        raise Conflict("Submit the screening before recording an identification decision")
    if screening.submitted_at and body.decided_on < screening.submitted_at.date():
        raise Invalid("The decision cannot predate the screening", field="body.decided_on")
    decision = Decision(
        id=str(uuid.uuid4()),
        screening_id=screening.id,
        org_id=screening.org_id,
        outcome=body.outcome,
        authority=body.authority,
        decided_on=body.decided_on,
        recorded_by=principal.sub,
        recorded_at=now,
    )
    session.add(decision)
    screening.outcome = body.outcome
    screening.updated_at = now
    await session.flush()
    await emit(
        session,
        "screening.decision_recorded",
        {
            "screening_id": screening.id,
            "decision_id": decision.id,
            "org": screening.org_id,
            "outcome": body.outcome,
            "decided_on": body.decided_on.isoformat(),
            "child": screening.child,
        },
        aggregate_id=screening.id,
    )
    await emit_fact(session, vault, screening)
    repository.audit(session, principal, "decide", screening.id)
    return decision


async def lookup(
    session: AsyncSession, keyring: Keyring, principal: Principal, body: LookupRequest
) -> list[tuple[Screening, set[str]]]:
    # Every configured blind-index key: during a re-index some rows are still under the previous key.
    digests: list[tuple[str, str]] = []
    dob = _iso(body.date_of_birth)
    for key_id in keyring.blind_key_ids():
        for normalise in (normalise_person, legacy_normalise_person):
            normalised = normalise(body.given_name, body.family_name, dob)
            if normalised:
                digests.append(("name_dob", keyring.blind_index("name_dob", normalised, key_id)))
        if body.document_number:
            document = normalise_document(body.document_number)
            digests.append(("document", keyring.blind_index("document", document, key_id)))
    found = await repository.blind_index_matches(session, principal.org, digests)
    rows = await repository.screenings_by_ids(session, principal.org, list(found))
    repository.audit(session, principal, "lookup")
    for row in rows:
        repository.audit(session, principal, "lookup_match", row.id)
    return [(row, found[row.id]) for row in rows]
