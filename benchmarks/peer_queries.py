"""The peer benchmark's two questions, as our API and as PostGraphile's Amber schema ask them,
and one shape both answers are brought to so they can be compared.

Both ask for trials in id order with title, phase, status and sponsor name, and for each its
first 20 sites in id order with city, country and institution name.  Our `first` is capped at
100, so the 500 trials of the big case are five aliased pages, after cursors read once before
the timing; PostGraphile has no cap and takes `first: 500`.
"""

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from atmp_graph.enums import TrialPhase, TrialStatus

OUR_PAGE = 100  # the most our `first` allows
SITES = 20

_OUR_FIELDS = f"""nodes {{ title phase status sponsor {{ name }}
    sites(first: {SITES}) {{ city country institution {{ name }} }} }}"""

_PEER_FIELDS = f"""nodes {{ title phase status institutionBySponsorId {{ name }}
    trialSitesByTrialId(first: {SITES}, orderBy: PRIMARY_KEY_ASC) {{
      nodes {{ city country institutionByInstitutionId {{ name }} }} }} }}"""

# One trial as both answers are compared: title, phase, status, sponsor, and its sites.
Site = tuple[str | None, str | None, str | None]
Trial = tuple[str, str | None, str | None, str | None, tuple[Site, ...]]


@dataclasses.dataclass(frozen=True)
class Case:
    """One question: how many trials, and how hard wrk asks it."""

    name: str
    trials: int
    connections: int
    threads: int


SMALL = Case("small", trials=20, connections=20, threads=1)
BIG = Case("big", trials=500, connections=4, threads=1)
CASES = (SMALL, BIG)


def _name(node: dict[str, Any] | None) -> str | None:
    return None if node is None else node["name"]


def _stored(enum: type[TrialPhase] | type[TrialStatus], name: str | None) -> str | None:
    """Our enum's GraphQL name → the value the database holds (what the peer shows)."""
    return None if name is None else enum[name].value


def peer_body(case: Case) -> bytes:
    query = (
        f"query {case.name.title()} {{ allClinicalTrials(first: {case.trials}, "
        f"orderBy: PRIMARY_KEY_ASC) {{ {_PEER_FIELDS} }} }}"
    )
    return json.dumps({"query": query}).encode()


def peer_trials(answer: dict[str, Any]) -> list[Trial]:
    return [
        (
            node["title"],
            node["phase"],
            node["status"],
            _name(node["institutionBySponsorId"]),
            tuple(
                (site["city"], site["country"], _name(site["institutionByInstitutionId"]))
                for site in node["trialSitesByTrialId"]["nodes"]
            ),
        )
        for node in answer["data"]["allClinicalTrials"]["nodes"]
    ]


def our_pages(case: Case) -> int:
    return -(-case.trials // OUR_PAGE)


def our_body(case: Case, cursors: Sequence[str]) -> bytes:
    """Our question: one page, or aliased pages of 100 after `cursors` (one fewer than the
    pages: the first page starts at the start)."""
    pages = our_pages(case)
    assert len(cursors) == pages - 1, f"{case.name}: {pages} pages need {pages - 1} cursors"
    size = min(case.trials, OUR_PAGE)
    fields = [f"p0: trials(first: {size}) {{ ...Page }}"] + [
        f"p{n + 1}: trials(first: {size}, after: $after{n + 1}) {{ ...Page }}"
        for n in range(len(cursors))
    ]
    parameters = ", ".join(f"$after{n + 1}: String!" for n in range(len(cursors)))
    operation = f"query {case.name.title()}" + (f"({parameters})" if parameters else "")
    query = (
        f"{operation} {{ {' '.join(fields)} }} "
        f"fragment Page on ClinicalTrialConnection {{ {_OUR_FIELDS} }}"
    )
    variables = {f"after{n + 1}": cursor for n, cursor in enumerate(cursors)}
    return json.dumps({"query": query, "variables": variables}).encode()


def cursor_query(after: str | None) -> bytes:
    """Where our page of 100 after `after` ends: the cursor of the page after it."""
    query = (
        f"query Cursor($after: String) {{ trials(first: {OUR_PAGE}, after: $after) "
        "{ pageInfo { endCursor } } }"
    )
    return json.dumps({"query": query, "variables": {"after": after}}).encode()


def our_trials(answer: dict[str, Any]) -> list[Trial]:
    data = answer["data"]
    return [
        (
            node["title"],
            _stored(TrialPhase, node["phase"]),
            _stored(TrialStatus, node["status"]),
            _name(node["sponsor"]),
            tuple(
                (site["city"], site["country"], _name(site["institution"]))
                for site in node["sites"]
            ),
        )
        for page in sorted(data, key=lambda alias: int(alias[1:]))
        for node in data[page]["nodes"]
    ]
