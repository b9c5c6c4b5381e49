"""The record types a feed plugin produces: one pydantic model per kind of entity.

A plugin hands the host plain values under these field names (see `SourceRow`); the host
validates them into these models, and a record that does not validate is quarantined with the
field and reason.  References to other records of the same feed are by their source ids
(`product_ids`, `project_ids`); references to institutions are `InstitutionRef`s, matched on
ROR id, reference-data key, or name and aliases.
"""

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from atmp_graph.enums import (
    AgreementStatus,
    AtmpClass,
    CollaborationArea,
    DevelopmentStage,
    FacilityKind,
    FacilityStatus,
    InstitutionKind,
    PartnershipKind,
    PartnershipStatus,
    ProjectStatus,
    TrialPhase,
    TrialStatus,
)
from atmp_graph.normalize import (
    EU_CT_NUMBER,
    EUDRACT_NUMBER,
    NCT_ID,
    ORCID,
    ROR_ID,
    canonical_eudract,
    compact_identifier,
    strip_ror_prefix,
)

__all__ = [
    "RECORD_TYPES",
    "AgreementRecord",
    "CompanyRef",
    "FacilityRecord",
    "FieldProblem",
    "Identifier",
    "InstitutionRecord",
    "InstitutionRef",
    "InterventionRecord",
    "PartnershipRecord",
    "ProductRecord",
    "ProjectRecord",
    "Record",
    "SignatoryRecord",
    "SiteRecord",
    "SourceRow",
    "TermsRecord",
    "TrialRecord",
]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


def _parse_iso_date(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")


def _identifier(pattern: re.Pattern[str], description: str, clean: Callable[[str], str]) -> Any:
    def check(value: Any) -> Any:
        value = _blank_to_none(value)
        if value is None:
            return None
        cleaned = clean(str(value))
        if not pattern.fullmatch(cleaned):
            raise ValueError(f"{value!r} is not {description}")
        return cleaned

    return BeforeValidator(check)


def _vocabulary(enum_type: type[enum.Enum], description: str) -> Any:
    """Accept an enum member by value in any case; name the allowed values when it fails."""

    def check(value: Any) -> Any:
        value = _blank_to_none(value)
        if value is None or isinstance(value, enum_type):
            return value
        key = re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_").upper()
        try:
            return enum_type(key)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in enum_type)
            raise ValueError(f"{value!r} is not {description} ({allowed})") from None

    return BeforeValidator(check)


def _whole_number(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str) and value.replace(" ", "").isdigit():
        return int(value.replace(" ", ""))
    raise ValueError(f"{value!r} is not a whole number")


def _amount(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, int | float | Decimal):
        return value
    try:
        # Swedish exports write thousands with spaces (also non-breaking ones) and a decimal comma.
        return Decimal(re.sub(r"\s", "", str(value)).replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def _country_code(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", str(value)):
        raise ValueError(f"{value!r} is not an ISO 3166 country code (SE, NL, ...)")
    return str(value).upper()


def _required_text(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        raise ValueError("is empty")
    return value


Text = Annotated[str, BeforeValidator(_required_text)]
CountryCode = Annotated[str | None, BeforeValidator(_country_code)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
IsoDate = Annotated[dt.date | None, BeforeValidator(_parse_iso_date)]
WholeNumber = Annotated[int | None, BeforeValidator(_whole_number)]
Amount = Annotated[Decimal | None, BeforeValidator(_amount)]
NctId = Annotated[
    str | None, _identifier(NCT_ID, "an NCT id (NCT and 8 digits)", compact_identifier)
]
EudraCtNumber = Annotated[
    str | None,
    _identifier(EUDRACT_NUMBER, "a EudraCT number (YYYY-NNNNNN-CC)", canonical_eudract),
]
EuCtNumber = Annotated[
    str | None,
    _identifier(EU_CT_NUMBER, "an EU CT number (YYYY-5NNNNN-NN-NN)", compact_identifier),
]
RorId = Annotated[str | None, _identifier(ROR_ID, "a ROR id (like 012a77v79)", strip_ror_prefix)]
OrcidId = Annotated[
    str | None, _identifier(ORCID, "an ORCID (NNNN-NNNN-NNNN-NNNX)", compact_identifier)
]
TextList = Annotated[
    list[str], BeforeValidator(lambda v: [s.strip() for s in (v or []) if s and s.strip()])
]
InstitutionKindValue = Annotated[
    InstitutionKind | None, _vocabulary(InstitutionKind, "an institution kind")
]
FacilityStatusValue = Annotated[
    FacilityStatus | None, _vocabulary(FacilityStatus, "a facility status")
]
DevelopmentStageValue = Annotated[
    DevelopmentStage | None, _vocabulary(DevelopmentStage, "a development stage")
]
ProjectStatusValue = Annotated[ProjectStatus | None, _vocabulary(ProjectStatus, "a project status")]
TrialPhaseValue = Annotated[TrialPhase | None, _vocabulary(TrialPhase, "a trial phase")]
TrialStatusValue = Annotated[TrialStatus | None, _vocabulary(TrialStatus, "a trial status")]
PartnershipStatusValue = Annotated[
    PartnershipStatus | None, _vocabulary(PartnershipStatus, "a partnership status")
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstitutionRef(_Model):
    """Points at an institution: by ROR id, by reference-data key, or by name and aliases."""

    name: OptionalText = None
    ror: RorId = None
    key: OptionalText = None
    registration_number: OptionalText = None
    kind: InstitutionKindValue = None
    country: CountryCode = None
    city: OptionalText = None

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if not (self.name or self.ror or self.key):
            raise ValueError("names no institution (no name, ROR id or key)")
        return self


class FieldProblem(ValueError):
    """A whole-record check that still blames one field, so quarantine can name it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _period_in_order(start: dt.date | None, end: dt.date | None, end_field: str) -> None:
    if start and end and end < start:
        raise FieldProblem(end_field, f"{end.isoformat()!r} is before the start date {start}")


class CompanyRef(InstitutionRef):
    """A company partner: its name is required, its registration number matches it."""

    name: Text
    kind: InstitutionKindValue = InstitutionKind.COMPANY


class Record(_Model):
    """Fields every record has; `entity` names the stream it belongs to."""

    entity: ClassVar[str]
    source_id: Text


class InstitutionRecord(Record):
    entity: ClassVar[str] = "institution"

    name: Text
    key: OptionalText = None
    short_name: OptionalText = None
    kind: InstitutionKindValue = None
    country: CountryCode = None
    city: OptionalText = None
    ror: RorId = None
    registration_number: OptionalText = None
    aliases: TextList = Field(default_factory=list)
    part_of: InstitutionRef | None = None


class FacilityRecord(Record):
    entity: ClassVar[str] = "facility"

    name: Text
    key: OptionalText = None
    kind: Annotated[FacilityKind, _vocabulary(FacilityKind, "a facility kind")]
    owner: InstitutionRef | None = None
    description: OptionalText = None
    status: FacilityStatusValue = None
    opened_year: WholeNumber = None
    city: OptionalText = None
    country: CountryCode = None
    cluster: OptionalText = None
    aliases: TextList = Field(default_factory=list)


class SignatoryRecord(_Model):
    name: Text
    role: OptionalText = None
    orcid: OrcidId = None
    institution: InstitutionRef | None = None


class AgreementRecord(Record):
    entity: ClassVar[str] = "agreement"

    title: Text
    kind: OptionalText = None
    status: Annotated[AgreementStatus, _vocabulary(AgreementStatus, "an agreement status")]
    status_note: OptionalText = None
    signed_date: IsoDate = None
    signed_place: OptionalText = None
    areas: TextList = Field(default_factory=list)
    therapy_areas: TextList = Field(default_factory=list)
    parties: list[InstitutionRef] = Field(default_factory=list)
    signatories: list[SignatoryRecord] = Field(default_factory=list)


class ProductRecord(Record):
    entity: ClassVar[str] = "product"

    name: Text
    atmp_class: Annotated[AtmpClass | None, _vocabulary(AtmpClass, "an ATMP class")] = None
    intervention_type: OptionalText = None
    modality: OptionalText = None
    stage: DevelopmentStageValue = None
    originator: InstitutionRef | None = None
    manufacturing_site: OptionalText = None
    indications: TextList = Field(default_factory=list)


class ProjectRecord(Record):
    """A project; exchange and education projects also build an Exchange or EducationActivity."""

    entity: ClassVar[str] = "project"

    title: Text
    area: Annotated[CollaborationArea, _vocabulary(CollaborationArea, "a collaboration area")]
    summary: OptionalText = None
    status: ProjectStatusValue = None
    start_date: IsoDate = None
    end_date: IsoDate = None
    lead_unit: OptionalText = None
    lead: InstitutionRef | None = None
    partners: list[InstitutionRef] = Field(default_factory=list)
    conditions: TextList = Field(default_factory=list)
    product_ids: TextList = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _period_in_order(self.start_date, self.end_date, "end_date")
        return self


class SiteRecord(_Model):
    name: Text
    city: OptionalText = None
    country: CountryCode = None


class InterventionRecord(_Model):
    """What a trial gives its participants, as its registry lists it: a drug, a gene therapy,
    but also a procedure or a device, which is no product."""

    name: Text
    type: OptionalText = None
    description: OptionalText = None


# A trial without a title is named by the first of these it has (identity/resolution.py
# chooses a stand-in the same way when no feed gives a title).
TitleStandIn = Literal["acronym", "nct_id", "eudract_id", "euct_id"]
TITLE_STAND_INS: tuple[TitleStandIn, ...] = ("acronym", "nct_id", "eudract_id", "euct_id")


class TrialRecord(Record):
    """A trial.  One without a title is still a trial when a registry id names it: its title
    is then its acronym or that id, and `title_from` (set here, not by the feed) says which."""

    entity: ClassVar[str] = "clinical_trial"

    title: OptionalText = None
    title_from: TitleStandIn | None = None
    local_id: OptionalText = None
    nct_id: NctId = None
    eudract_id: EudraCtNumber = None
    euct_id: EuCtNumber = None
    acronym: OptionalText = None
    phase: TrialPhaseValue = None
    status: TrialStatusValue = None
    start_date: IsoDate = None
    completion_date: IsoDate = None
    enrollment: WholeNumber = None
    study_type: OptionalText = None
    sponsor: InstitutionRef | None = None
    collaborators: list[InstitutionRef] = Field(default_factory=list)
    sites: list[SiteRecord] = Field(default_factory=list)
    conditions: TextList = Field(default_factory=list)
    product_ids: TextList = Field(default_factory=list)
    interventions: list[InterventionRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _period_in_order(self.start_date, self.completion_date, "completion_date")
        return self

    @model_validator(mode="after")
    def _named(self) -> Self:
        """A missing title is no reason to lose a trial that a registry id identifies."""
        stand_in: TitleStandIn | None = None
        if self.title is None:
            if not (self.nct_id or self.eudract_id or self.euct_id):
                raise FieldProblem("title", "is empty, and no registry id names the trial")
            stand_in = first = next(name for name in TITLE_STAND_INS if getattr(self, name))
            # Frozen: validation is the one place that may still fill a field in.
            object.__setattr__(self, "title", getattr(self, first))
        # Set here whatever the feed sent: only validation knows whether a title was given.
        object.__setattr__(self, "title_from", stand_in)
        return self


class TermsRecord(_Model):
    value_amount: Amount = None
    currency: OptionalText = None
    confidential: bool = True


# The fields of each kind of record that only admins and the parties may see, wherever they
# appear (a quarantined row keeps its raw text: these are taken out of it for others).
CONFIDENTIAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "partnership": ("terms.value_amount", "terms.currency"),
}


class PartnershipRecord(Record):
    entity: ClassVar[str] = "partnership"

    partner: CompanyRef
    kind: Annotated[PartnershipKind, _vocabulary(PartnershipKind, "a partnership kind")]
    status: PartnershipStatusValue = None
    start_date: IsoDate = None
    end_date: IsoDate = None
    institutions: list[InstitutionRef] = Field(default_factory=list)
    project_ids: TextList = Field(default_factory=list)
    product_ids: TextList = Field(default_factory=list)
    terms: TermsRecord | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _period_in_order(self.start_date, self.end_date, "end_date")
        return self


RECORD_TYPES: Mapping[str, type[Record]] = {
    record_type.entity: record_type
    for record_type in (
        InstitutionRecord,
        FacilityRecord,
        AgreementRecord,
        ProductRecord,
        ProjectRecord,
        TrialRecord,
        PartnershipRecord,
    )
}


@dataclass(frozen=True)
class Identifier:
    """An external identifier a record carries: scheme (nct, eudract, euct, ror, orcid, ...)."""

    scheme: str
    value: str


@dataclass(frozen=True, kw_only=True)
class SourceRow:
    """One record as a feed adapter hands it over, before validation.

    `data` holds the record's fields (names as in the record types) with the feed's values,
    translated but not yet checked; `labels` maps those field names to the feed's own column
    names so that errors speak the feed's language; `raw` keeps the source row as read, so a
    quarantined record loses nothing.  `problem` reports a row the adapter could not read or
    map at all (bytes that are not UTF-8, a record over a limit of plugins/limits.py), and
    `problem_field` the field (in the feed's words) it is in, where it is in one; such a row's
    `raw` is best the text it was read as (`kept_text`), since it may not parse.

    Provenance: the host adds the feed, the adapter's version and the content hash;
    `source_uri` (default: what the run read) and `extracted_at` (default: the run's start)
    say where and when this record was read; `cursor` is its value of the stream's cursor field,
    as text (a record whose cursor is not of the stream's `cursor_type` is quarantined).

    `deleted` says the source deleted the record: the host retires what it built (its other
    fields but `entity`, `source_id` and `cursor` may stay empty).  This is how a feed that is
    read incrementally, whose reads are never the whole truth, tells of deletions.

    `parent` names the record this one belongs to, as (entity, source id): a registry study's
    product rows name its trial.  Such a row is written only with its parent: it waits until
    the parent is read (send it just before the parent, so it does not wait long), and when the
    parent is quarantined, so is the row, with a reason that names the parent.
    """

    entity: str
    source_id: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    identifiers: tuple[Identifier, ...] = ()
    cursor: str | None = None
    parent: tuple[str, str] | None = None
    source_uri: str | None = None
    extracted_at: dt.datetime | None = None
    file: str | None = None
    row: int | None = None
    problem: str | None = None
    problem_field: str | None = None
    deleted: bool = False
