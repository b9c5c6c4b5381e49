"""Turn each validated record into model rows: one writer per record type.

A writer first resolves the record's references to other records of its feed (which can still
reject it), then writes.  It returns every entity it built, the main one first, so the pipeline
can link them all to the source record.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select

from atmp_graph.enums import CollaborationArea, InstitutionKind
from atmp_graph.identity import aliases, lookup
from atmp_graph.identity.merging import merge
from atmp_graph.ingest import source_records
from atmp_graph.ingest.claims import TRIAL_FIELDS
from atmp_graph.ingest.context import WriteContext, alias_pairs, place_sites_again
from atmp_graph.model import (
    Agreement,
    Base,
    ClinicalTrial,
    EducationActivity,
    Exchange,
    Facility,
    Institution,
    Partnership,
    PartnershipTerms,
    Person,
    Product,
    Project,
    Signatory,
    links,
)
from atmp_graph.normalize import fold_name
from atmp_graph.plugins.records import (
    AgreementRecord,
    FacilityRecord,
    InstitutionRecord,
    InstitutionRef,
    PartnershipRecord,
    ProductRecord,
    ProjectRecord,
    Record,
    TrialRecord,
)

M = TypeVar("M", bound=Base)


def _row(ctx: WriteContext, model: type[M], existing: M | None) -> M:
    if existing is not None:
        return existing
    row = model()
    ctx.session.add(row)
    return row


def _id(entity: Base | None) -> int | None:
    return None if entity is None else entity.id  # type: ignore[attr-defined]


def _absorb(
    ctx: WriteContext, institution_ids: Sequence[int], into: int, *, names: Sequence[str] = ()
) -> None:
    """Merge the institutions that feeds only named in passing (made up from a name before
    the record describing them arrived) into `into`: an exact name or identifier is a sure
    match, so the graph comes out the same whichever feed came first.  `names` are aliases
    that belong to something else (a facility) and are dropped rather than carried over."""
    described = lookup.described(ctx.session, Institution, institution_ids)
    for provisional in sorted(set(institution_ids) - described - {into}):
        if lookup.kept_apart(ctx.session, "institution", provisional, into):
            continue
        merge(
            ctx.session,
            Institution,
            into,
            provisional,
            reason=f"{ctx.feed} describes it under a name or identifier it was named by",
            precedence=ctx.precedence,
            fill=False,
            shed=names,
        )


def write_institution(
    ctx: WriteContext, record: InstitutionRecord, existing: Institution | None
) -> list[Base]:
    names = alias_pairs([record.name, *record.aliases])
    matching = lookup.institutions_matching(
        ctx.session,
        names=[record.name, *record.aliases],
        ror_id=record.ror,
        key=record.key,
        registration_number=record.registration_number,
    )
    if existing is None and matching:
        described = lookup.described(ctx.session, Institution, matching)
        existing = ctx.session.get(Institution, min(described or matching))
    if existing is not None:
        # First, so that the identifiers they hold are free for this record to set.
        _absorb(ctx, matching, existing.id)
        existing = ctx.session.get(Institution, existing.id)
    institution = _row(ctx, Institution, existing)
    institution.name, institution.key = record.name, record.key or institution.key
    institution.short_name = record.short_name
    institution.kind = record.kind or InstitutionKind.OTHER
    institution.country, institution.city = record.country, record.city
    institution.ror_id = record.ror or institution.ror_id
    institution.registration_number = record.registration_number
    ctx.session.flush()
    part_of = ctx.maybe_institution(record.part_of)
    institution.part_of_id = _id(part_of)
    aliases.add_aliases(ctx.session, institution, names, respell=True)
    place_sites_again(ctx.session, names, ctx.precedence)
    return [institution]


def write_facility(
    ctx: WriteContext, record: FacilityRecord, existing: Facility | None
) -> list[Base]:
    names = alias_pairs([record.name, *record.aliases])
    folded = [f for _, f in names]
    owner = ctx.maybe_institution(record.owner)
    ctx.session.flush()
    facility = _row(
        ctx, Facility, existing or lookup.find_facility(ctx.session, folded_names=folded)
    )
    facility.key, facility.name, facility.kind = record.key, record.name, record.kind
    facility.owner_id = _id(owner)
    facility.description, facility.status = record.description, record.status
    facility.opened_year, facility.cluster = record.opened_year, record.cluster
    facility.city, facility.country = record.city, record.country
    aliases.add_aliases(ctx.session, facility, names, respell=True)
    if owner is not None:
        # An institution made up from this facility's name, before the facility was known, is
        # the facility: what was made or run there is made or run at the facility, by its owner.
        named = lookup.institutions_matching(ctx.session, names=[name for name, _ in names])
        source_records.place_at_facility(ctx.session, named, facility.id)
        _absorb(ctx, named, owner.id, names=folded)
    place_sites_again(ctx.session, names, ctx.precedence)
    return [facility]


def _person(ctx: WriteContext, name: str, orcid: str | None) -> Person:
    query = select(Person).where(Person.orcid == orcid if orcid else Person.name == name)
    person = ctx.session.scalars(query).first()
    if person is None:
        person = Person(name=name, orcid=orcid)
        ctx.session.add(person)
        ctx.session.flush()
    ctx.named.nodes.append(person)
    return person


def write_agreement(
    ctx: WriteContext, record: AgreementRecord, existing: Agreement | None
) -> list[Base]:
    agreement = _row(ctx, Agreement, existing)
    agreement.key, agreement.title, agreement.kind = record.source_id, record.title, record.kind
    agreement.status, agreement.status_note = record.status, record.status_note
    agreement.signed_date, agreement.signed_place = record.signed_date, record.signed_place
    agreement.areas, agreement.therapy_areas = list(record.areas), list(record.therapy_areas)
    parties = ctx.institution_ids(record.parties)
    ctx.session.flush()
    links.replace_links(ctx.session, Agreement, agreement.id, "parties", parties)
    ctx.session.execute(delete(Signatory).where(Signatory.agreement_id == agreement.id))
    for signatory in record.signatories:
        person = _person(ctx, signatory.name, signatory.orcid)
        institution = ctx.maybe_institution(signatory.institution)
        ctx.session.flush()
        ctx.session.add(
            Signatory(
                agreement_id=agreement.id,
                person_id=person.id,
                institution_id=_id(institution),
                role=signatory.role,
            )
        )
        if institution is not None:
            links.add_link(ctx.session, Person, person.id, "affiliations", institution.id)
    return [agreement]


def write_product(ctx: WriteContext, record: ProductRecord, existing: Product | None) -> list[Base]:
    facility = manufacturer = None
    if record.manufacturing_site:
        site = record.manufacturing_site
        facility = lookup.find_facility(ctx.session, folded_names=[fold_name(site)])
        if facility is None:
            manufacturer = ctx.institution(InstitutionRef(name=site))
    originator = ctx.maybe_institution(record.originator)
    product = _row(ctx, Product, existing)
    product.name, product.code, product.atmp_class = (
        record.name,
        record.source_id,
        record.atmp_class,
    )
    product.modality, product.stage = record.modality, record.stage
    product.intervention_type = record.intervention_type
    ctx.session.flush()
    product.originator_id = _id(originator)
    product.manufacturing_facility_id = _id(facility)
    product.manufacturer_id = facility.owner_id if facility else _id(manufacturer)
    if facility is not None and facility.owner_id is not None:
        # The maker, named by its facility: the same node a made-up maker merges into when
        # the facility arrives after the product.
        ctx.named.nodes.append(ctx.session.get_one(Institution, facility.owner_id))
    ctx.session.flush()
    # Its indications are chosen with its values, from its records' claims.
    ctx.conditions(record.indications)
    return [product]


def _derived(ctx: WriteContext, model: type[M], project_id: int) -> M:
    found = ctx.session.scalars(select(model).where(model.project_id == project_id)).first()  # type: ignore[attr-defined]
    return _row(ctx, model, found)


def write_project(ctx: WriteContext, record: ProjectRecord, existing: Project | None) -> list[Base]:
    references = ctx.references([("product_ids", "products", "product", record.product_ids)])
    lead = ctx.maybe_institution(record.lead)
    partners = ctx.institution_ids(record.partners)
    project = _row(ctx, Project, existing)
    project.code, project.title, project.area = record.source_id, record.title, record.area
    project.summary, project.status = record.summary, record.status
    project.start_date, project.end_date = record.start_date, record.end_date
    project.lead_unit, project.lead_institution_id = record.lead_unit, _id(lead)
    ctx.session.flush()
    links.replace_links(ctx.session, Project, project.id, "partners", partners)
    links.replace_links(
        ctx.session, Project, project.id, "conditions", ctx.conditions(record.conditions)
    )
    ctx.link(project, references)
    built: list[Base] = [project]
    # Exchange and education projects are also the exchange or course they describe.
    if record.area is CollaborationArea.RESEARCHER_EXCHANGE:
        exchange = _derived(ctx, Exchange, project.id)
        exchange.title, exchange.project_id = record.title, project.id
        exchange.from_institution_id = _id(lead)
        exchange.to_institution_id = partners[0] if partners else None
        exchange.start_date, exchange.end_date = record.start_date, record.end_date
        built.append(exchange)
    elif record.area is CollaborationArea.EDUCATION:
        activity = _derived(ctx, EducationActivity, project.id)
        activity.title, activity.project_id = record.title, project.id
        activity.kind = "course" if record.title.lower().startswith(("kurs", "course")) else None
        activity.host_institution_id = _id(lead)
        activity.start_date, activity.end_date = record.start_date, record.end_date
        built.append(activity)
    return built


def write_trial(
    ctx: WriteContext, record: TrialRecord, existing: ClinicalTrial | None
) -> list[Base]:
    """A new trial takes this record's values; a known one gets them chosen afresh from all
    its records' claims once this record's are stored (identity/resolution.py), and so do its
    links: what the records still send, so a link no feed sends any more goes."""
    references = ctx.references([("product_ids", "products", "product", record.product_ids)])
    sponsor = ctx.maybe_institution(record.sponsor)
    # What its claims name must exist when they are resolved.
    ctx.institution_ids(record.collaborators)
    ctx.conditions(record.conditions)
    if existing is None and (same := lookup.matching_trial(ctx.session, record)) is not None:
        # The same trial under one of its registry ids, from whichever feed stored it.
        existing = ctx.session.get(ClinicalTrial, same)
    trial = _row(ctx, ClinicalTrial, existing)
    if trial.id is None:
        for name in TRIAL_FIELDS:
            setattr(trial, name, getattr(record, name))
        trial.sponsor_id = _id(sponsor)
    ctx.session.flush()
    ctx.park(trial, references)
    return [trial]


def write_partnership(
    ctx: WriteContext, record: PartnershipRecord, existing: Partnership | None
) -> list[Base]:
    references = ctx.references(
        [
            ("project_ids", "projects", "project", record.project_ids),
            ("product_ids", "products", "product", record.product_ids),
        ]
    )
    partner = ctx.institution(record.partner)
    institutions = ctx.institution_ids(record.institutions)
    ctx.session.flush()
    partnership = _row(ctx, Partnership, existing)
    partnership.code, partnership.kind = record.source_id, record.kind
    partnership.status = record.status
    partnership.start_date, partnership.end_date = record.start_date, record.end_date
    partnership.partner_id = partner.id
    ctx.session.flush()
    links.replace_links(ctx.session, Partnership, partnership.id, "institutions", institutions)
    ctx.link(partnership, references)
    ctx.session.execute(
        delete(PartnershipTerms).where(PartnershipTerms.partnership_id == partnership.id)
    )
    if record.terms is not None:
        ctx.session.add(
            PartnershipTerms(
                partnership_id=partnership.id,
                value_amount=record.terms.value_amount,
                currency=record.terms.currency,
                confidential=record.terms.confidential,
            )
        )
    # The partner is built from this record too, so a company's sources show every feed
    # that names it.
    return [partnership, partner]


Writer = Callable[[WriteContext, Any, Any], list[Base]]
# record type -> (model of the main entity, writer)
WRITERS: dict[type[Record], tuple[type[Base], Writer]] = {
    InstitutionRecord: (Institution, write_institution),
    FacilityRecord: (Facility, write_facility),
    AgreementRecord: (Agreement, write_agreement),
    ProductRecord: (Product, write_product),
    ProjectRecord: (Project, write_project),
    TrialRecord: (ClinicalTrial, write_trial),
    PartnershipRecord: (Partnership, write_partnership),
}
