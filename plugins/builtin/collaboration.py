"""The collaboration's reference data: the agreement, parties, facilities, innovation sites.

Everything the partner feeds attach to comes from here: institutions (with ROR ids and the
aliases partners use), facilities and the agreement itself.
"""

import re
import reprlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from atmp_graph import Identifier, NoConfig, SourceRow, Stream, hookimpl, kept_text
from atmp_graph.plugins.builtin.json_document import (
    JsonDocument,
    UnreadableJson,
    file_text,
    load_json,
    readable_text,
)
from atmp_graph.plugins.builtin.samples import sample_path

ATMP_GRAPH_CONTRACT = "1.0"

FEED = "collaboration"
_INSTITUTION_KINDS = {"regional healthcare authority": "HEALTHCARE_AUTHORITY"}
_QUALIFIED = re.compile(r"^(?P<kind>[^(]+?)\s*\((?P<detail>[^)]+)\)$")


def _kind_and_detail(kind: str) -> tuple[str, str | None]:
    """'research infrastructure (synchrotron)' is the kind plus a detail worth keeping."""
    match = _QUALIFIED.match(kind)
    return (match["kind"], match["detail"]) if match else (kind, None)


def _description(*parts: object) -> str | None:
    return " ".join(str(part).rstrip(".") + "." for part in parts if part) or None


class CollaborationFeed:
    name = FEED
    title = "Collaboration reference data (agreement, parties, facilities)"
    version = "1.0"
    institution_ror: str | None = None
    streams: tuple[Stream, ...] = (
        Stream("institution", primary_key="key"),
        Stream("facility", primary_key="key"),
        Stream("agreement", primary_key="id"),
    )
    config_model: type[BaseModel] = NoConfig

    def sample(self) -> str:
        return str(sample_path("collaboration") / "collaboration.json")

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        path = Path(source)
        path = path / "collaboration.json" if path.is_dir() else path
        data = path.read_bytes()
        try:
            parsed = load_json(data)
        except UnreadableJson as error:
            yield _unreadable_file(path.name, data, str(error))
            return
        document = parsed.value
        if not isinstance(document, Mapping):
            yield _unreadable_file(path.name, data, parsed.explain("is not a JSON object"))
            return
        for item in _list(document.get("institutions")):
            yield _checked(
                parsed,
                entity="institution",
                id_field="key",
                file=path.name,
                item=item,
                to_row=self._institution,
            )
        facilities = _list(document.get("facilities")) + _list(
            document.get("innovationEnvironments")
        )
        for item in facilities:
            yield _checked(
                parsed,
                entity="facility",
                id_field="key",
                file=path.name,
                item=item,
                to_row=self._facility,
            )
        if "agreement" in document:
            yield _checked(
                parsed,
                entity="agreement",
                id_field="id",
                file=path.name,
                item=document["agreement"],
                to_row=self._agreement,
            )

    def _institution(self, file: str, item: Mapping[str, Any]) -> SourceRow:
        kind = item.get("kind", "")
        data = {
            "key": item.get("key"),
            "name": item.get("name"),
            "kind": _INSTITUTION_KINDS.get(kind, kind),
            "country": item.get("country"),
            "city": item.get("city"),
            "ror": item.get("ror"),
            "aliases": item.get("aliases", []),
            "part_of": {"name": item["partOf"]} if item.get("partOf") else None,
        }
        ror = item.get("ror")
        return SourceRow(
            entity="institution",
            source_id=item.get("key"),
            data=data,
            raw=item,
            file=file,
            identifiers=(Identifier("ror", ror),) if ror else (),
        )

    def _facility(self, file: str, item: Mapping[str, Any]) -> SourceRow:
        kind, detail = _kind_and_detail(item.get("kind", ""))
        data = {
            "key": item.get("key"),
            "name": item.get("name"),
            "kind": kind,
            "owner": {"key": item["owner"]} if item.get("owner") else None,
            "status": item.get("status"),
            "opened_year": item.get("opened"),
            "city": item.get("city"),
            "country": item.get("country"),
            "cluster": item.get("cluster"),
            "description": _description(
                detail, item.get("purpose"), item.get("note"), item.get("statusNote")
            ),
            "aliases": item.get("aliases", []),
        }
        return SourceRow(
            entity="facility", source_id=item.get("key"), data=data, raw=item, file=file
        )

    def _agreement(self, file: str, item: Mapping[str, Any]) -> SourceRow:
        data = {
            "title": item.get("title"),
            "kind": item.get("kind"),
            "status": item.get("status"),
            "status_note": item.get("statusNote"),
            "signed_date": item.get("signed"),
            "signed_place": item.get("signedAt"),
            "areas": item.get("areas", []),
            "therapy_areas": item.get("therapyAreas", []),
            "parties": [{"key": key} for key in item.get("parties", [])],
            "signatories": [
                {
                    "name": person.get("name"),
                    "role": person.get("role"),
                    "institution": {"key": person["institution"]}
                    if person.get("institution")
                    else None,
                }
                for person in item.get("signatories", [])
            ],
        }
        return SourceRow(
            entity="agreement", source_id=item.get("id"), data=data, raw=item, file=file
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _checked(
    document: JsonDocument,
    *,
    entity: str,
    id_field: str,
    file: str,
    item: Any,
    to_row: Callable[[str, Mapping[str, Any]], SourceRow],
) -> SourceRow:
    """The item's row, or, for one over a limit or not an object, the row that says why."""
    problem, kept = document.check(item)
    source_id = readable_text(item.get(id_field)) if isinstance(item, Mapping) else None
    raw = kept or (item if isinstance(item, Mapping) else {"value": item})
    if problem is not None:
        return SourceRow(
            entity=entity,
            source_id=source_id,
            raw=raw,
            file=file,
            problem=problem.reason,
            problem_field=problem.field,
        )
    if not isinstance(item, Mapping):
        problem_text = f"is not a JSON object: {reprlib.repr(item)}"
        return SourceRow(entity=entity, source_id=None, raw=raw, file=file, problem=problem_text)
    return to_row(file, item)


def _unreadable_file(file: str, data: bytes, reason: str) -> SourceRow:
    """A file that is not JSON at all: one quarantined record, the file's text."""
    return SourceRow(
        entity="institution",
        source_id=None,
        raw=kept_text(file_text(data)),
        file=file,
        problem=reason,
    )


@hookimpl
def atmp_graph_feeds() -> list[CollaborationFeed]:
    return [CollaborationFeed()]


@hookimpl
def atmp_graph_claim_source(source: str) -> str | None:
    path = Path(source)
    return (
        FEED
        if path.name == "collaboration.json" or (path / "collaboration.json").is_file()
        else None
    )
