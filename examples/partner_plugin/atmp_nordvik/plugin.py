"""The Nordvik feed: one XML export with products and trials.

Everything ATMP Graph needs from this module is its hook implementations, found through the
`atmp_graph` entry point in pyproject.toml.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pydantic import BaseModel

from atmp_graph import (
    MAX_NESTING_DEPTH,
    Identifier,
    NoConfig,
    Record,
    SourceRow,
    Stream,
    TrialRecord,
    hookimpl,
    kept_text,
    nested_too_deep,
)

# The plugin contract this plugin was written for; the host refuses another major version.
ATMP_GRAPH_CONTRACT = "1.0"

FEED = "nordvik"
INSTITUTION = "Nordvik University Hospital"
SAMPLE = Path(__file__).with_name("sample") / "export.xml"

PHASES = {"1": "PHASE1", "1/2": "PHASE1_PHASE2", "2": "PHASE2", "3": "PHASE3"}
STATUSES = {"planned": "NOT_YET_RECRUITING", "recruiting": "RECRUITING", "closed": "COMPLETED"}
STAGES = {"preclinical": "PRECLINICAL", "phase 1": "PHASE1", "phase 2": "PHASE2"}
# Record field -> where it is in the XML, so quarantine reasons speak Nordvik's language.
TRIAL_LABELS = {
    "source_id": "trial/@id",
    "title": "title",
    "phase": "phase",
    "status": "status",
    "enrollment": "enrolment",
    "start_date": "start",
    "sponsor": "sponsor",
}
PRODUCT_LABELS = {"source_id": "product/@code", "atmp_class": "@class", "stage": "@stage"}


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _product(element: ET.Element) -> dict[str, Any]:
    return {
        "name": _text(element, "name"),
        "atmp_class": element.get("class"),
        "stage": STAGES.get(element.get("stage", ""), element.get("stage")),
        "indications": [i.text for i in element.findall("indication") if i.text],
        "manufacturing_site": _text(element, "madeAt"),
        "originator": {"name": INSTITUTION, "country": "NO"},
    }


def _trial(element: ET.Element) -> dict[str, Any]:
    registry = {r.get("scheme"): (r.text or "").strip() for r in element.findall("registry")}
    phase, status, sponsor = (
        _text(element, "phase"),
        _text(element, "status"),
        _text(element, "sponsor"),
    )
    return {
        "nct_id": registry.get("nct"),
        "eudract_id": registry.get("eudract"),
        "title": _text(element, "title"),
        "phase": PHASES.get(phase or "", phase),
        "status": STATUSES.get(status or "", status),
        "sponsor": {"name": sponsor} if sponsor else None,
        "enrollment": _text(element, "enrolment"),
        "start_date": _text(element, "start"),
        "conditions": [c.text for c in element.findall("condition") if c.text],
        "product_ids": [p.get("ref") for p in element.findall("product") if p.get("ref")],
        "sites": [
            {"name": (s.text or "").strip(), "city": s.get("city"), "country": s.get("country")}
            for s in element.findall("site")
        ],
    }


class NordvikFeed:
    name = FEED
    title = "Nordvik University Hospital XML export"
    version = "0.1.0"
    institution_ror: str | None = None
    streams: tuple[Stream, ...] = (
        Stream("product", primary_key="product/@code"),
        Stream("clinical_trial", primary_key="trial/@id", cursor_field="trial/@updated"),
    )
    config_model: type[BaseModel] = NoConfig

    def sample(self) -> str:
        return str(SAMPLE)

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        since = state.get("clinical_trial", "")
        position = 0
        try:
            for position, element, deepest in _records(source):
                row = self._row(element, deepest, since, file=Path(source).name, row=position)
                if row is not None:
                    yield row
                element.clear()
        except ET.ParseError as error:
            # XML cannot be read past a byte that breaks it: say where, keep the rest as text.
            line, _ = error.position
            with Path(source).open("rb") as export:
                rest = b"".join(export.readlines()[line - 1 :])
            yield SourceRow(
                entity="product",
                source_id=None,
                raw=kept_text(rest.decode("utf-8", "backslashreplace")),
                file=Path(source).name,
                row=position + 1,
                problem=f"is not well-formed XML: {error}; nothing after it can be read",
            )

    def _row(
        self, element: ET.Element, deepest: int, since: str, *, file: str, row: int
    ) -> SourceRow | None:
        """One <product> or <trial>; None for a trial not updated since the last run."""
        updated = element.get("updated", "")
        if element.tag == "trial" and updated <= since:
            return None
        if deepest > MAX_NESTING_DEPTH:
            # Too deep for ET.tostring (it recurses): quarantined, and kept as its text.
            return SourceRow(
                entity="product" if element.tag == "product" else "clinical_trial",
                source_id=element.get("code") or element.get("id"),
                raw={"xml": _xml_text(element)},
                file=file,
                row=row,
                problem=f"the record {nested_too_deep(deepest)}",
            )
        raw = {"xml": ET.tostring(element, encoding="unicode")}
        if element.tag == "product":
            return SourceRow(
                entity="product",
                source_id=element.get("code"),
                data=_product(element),
                labels=PRODUCT_LABELS,
                raw=raw,
                file=file,
                row=row,
            )
        return SourceRow(
            entity="clinical_trial",
            source_id=element.get("id"),
            data=_trial(element),
            labels=TRIAL_LABELS,
            identifiers=tuple(
                Identifier(r.get("scheme", ""), (r.text or "").strip())
                for r in element.findall("registry")
            ),
            cursor=updated,
            raw=raw,
            file=file,
            row=row,
        )


def _records(source: str) -> Iterator[tuple[int, ET.Element, int]]:
    """Each <product> and <trial> (the children of <export>) with its place among them, from 1,
    and how deeply the document nests within it (<export> is at depth 1)."""
    # iterparse streams the file: a large export is never held in memory whole.
    depth = position = deepest = 0
    for event, element in ET.iterparse(source, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
        if event == "end" and depth == 1:
            if element.tag in {"product", "trial"}:
                position += 1
                yield position, element, deepest
            deepest = 0


_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"}


def _xml_text(element: ET.Element) -> str:
    """The element as ET.tostring writes it, without recursion (for one nested too deep)."""
    parts: list[str] = []
    stack: list[tuple[ET.Element, bool]] = [(element, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            parts.append(f"</{node.tag}>")
        else:
            attributes = "".join(
                f' {name}="{escape(value, _ATTRIBUTE_ESCAPES)}"'
                for name, value in node.attrib.items()
            )
            if len(node) == 0 and not node.text:
                parts.append(f"<{node.tag}{attributes} />")
            else:
                parts.append(f"<{node.tag}{attributes}>{escape(node.text or '')}")
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node))
        if node is not element and (closing or (len(node) == 0 and not node.text)):
            parts.append(escape(node.tail or ""))
    return "".join(parts)


@hookimpl
def atmp_graph_feeds() -> list[NordvikFeed]:
    return [NordvikFeed()]


@hookimpl
def atmp_graph_claim_source(source: str) -> str | None:
    """Claim XML files whose root says they come from Nordvik."""
    if not source.endswith(".xml") or not Path(source).is_file():
        return None
    try:
        for _event, element in ET.iterparse(source, events=("start",)):
            return FEED if element.get("institution") == INSTITUTION else None
    except ET.ParseError:  # not XML from its start: not Nordvik's
        return None
    return None


@hookimpl
def atmp_graph_validate_record(feed: str, record: Record) -> list[tuple[str, str]]:
    """Nordvik's own rule: every one of its trials names its sponsor."""
    if feed == FEED and isinstance(record, TrialRecord) and record.sponsor is None:
        return [("sponsor", "is required for Nordvik trials")]
    return []


__all__ = ["NordvikFeed"]
