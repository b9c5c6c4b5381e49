"""Where a trial runs: a site's name resolved to a facility or institution, and one row per site.

"Addenbrooke's Hospital" and "Addenbrooke's Hospital, Cambridge University Hospitals" are one
site: feeds append the parent organisation after a comma, so the part before it names the site.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from atmp_graph.identity import lookup
from atmp_graph.normalize import fold_name


class SitePlace(NamedTuple):
    """What a site's name tells: the institution and facility it is, and where."""

    institution_id: int | None
    facility_id: int | None
    city: str | None
    country: str | None


class Site(NamedTuple):
    """One site as a feed gives it."""

    name: str
    city: str | None
    country: str | None


def site_place(session: Session, name: str) -> SitePlace:
    """Resolve a site name to a facility, an institution, or a facility's owner."""
    facility = lookup.find_facility(session, folded_names=[fold_name(name)])
    institution = lookup.institution_for(session, {"name": name})
    return SitePlace(
        institution.id if institution else None,
        facility.id if facility else None,
        institution.city if institution else None,
        institution.country if institution else None,
    )


def site_rows(trial_id: int, sites: Iterable[tuple[Site, SitePlace]]) -> list[dict[str, Any]]:
    """The trial_site rows for these sites, best first: a later site the same as an earlier one
    (same name before any comma, or same institution) is left out; the feed's city and country
    come before the institution's."""
    seen: set[str | int] = set()
    rows = []
    for site, place in sites:
        keys: set[str | int] = {fold_name(site.name.split(",")[0])}
        if place.institution_id is not None:
            keys.add(place.institution_id)
        if keys & seen:
            continue
        seen |= keys
        rows.append(
            {
                "trial_id": trial_id,
                "name": site.name,
                "normalized": fold_name(site.name),
                "city": site.city or place.city,
                "country": site.country or place.country,
                "institution_id": place.institution_id,
                "facility_id": place.facility_id,
            }
        )
    return rows
