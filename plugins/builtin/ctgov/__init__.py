"""ClinicalTrials.gov: study records in the API v2 JSON shape, from files or the API itself.

Each study yields one product per medicinal intervention, each naming the trial as its parent,
then the trial, which points back at them by source id (`NCT05635409/STEM-PD`).  Incremental
reads follow the date each study's last update was posted: over HTTP the API is asked only for
newer studies, and every source skips studies no newer than the last run's cursor, so files and
the API behave the same.
"""

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel

from atmp_graph import SourceRow, Stream, hookimpl, kept_text
from atmp_graph.plugins.builtin.ctgov.mapping import (
    CURSOR_FIELD,
    IDENTIFICATION,
    INTERVENTIONS,
    at,
    last_update,
    study_rows,
)
from atmp_graph.plugins.builtin.ctgov.sources import CtGovConfig, SourceUnreadable, pages
from atmp_graph.plugins.builtin.json_document import readable_text
from atmp_graph.plugins.builtin.samples import sample_path

ATMP_GRAPH_CONTRACT = "1.1"

__all__ = [
    "CtGovConfig",
    "CtGovFeed",
    "SourceUnreadable",
    "atmp_graph_claim_source",
    "atmp_graph_feeds",
]

FEED = "ctgov"
REGISTRY_HOSTS = {"clinicaltrials.gov", "www.clinicaltrials.gov"}
STUDY_FILE = re.compile(r"^NCT\d{8}\.json$")


class CtGovFeed:
    name = FEED
    title = "ClinicalTrials.gov (API v2 study records)"
    version = "1.0"
    institution_ror: str | None = None
    # A whole read (the API or a directory, no query, no page limit: CtGovConfig.narrows_read)
    # is everything the registry has, so a study it no longer has is retired.
    streams: tuple[Stream, ...] = (
        Stream(
            "product",
            primary_key=f"{IDENTIFICATION}.nctId + '/' + {INTERVENTIONS}[].name",
            cursor_field=CURSOR_FIELD,
            cursor_type="date",
            full_read_is_complete=True,
        ),
        Stream(
            "clinical_trial",
            primary_key=f"{IDENTIFICATION}.nctId",
            cursor_field=CURSOR_FIELD,
            cursor_type="date",
            full_read_is_complete=True,
        ),
    )
    config_model: type[BaseModel] = CtGovConfig

    def sample(self) -> str:
        return str(sample_path(FEED))

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        """Read a study file, a page file, a directory of them, or the API at an http(s) URL."""
        settings = (
            config
            if isinstance(config, CtGovConfig)
            else CtGovConfig.model_validate(config.model_dump())
        )
        since = state.get("clinical_trial")
        for page in pages(source, settings=settings, since=since):
            if page.problem or page.document is None:
                yield SourceRow(
                    entity="clinical_trial",
                    source_id=None,
                    raw=kept_text(page.text or ""),
                    problem=page.problem,
                    file=page.origin.file,
                    source_uri=page.origin.uri,
                )
                continue
            for study in page.studies:
                cursor = last_update(study)
                # A study without the date cannot be placed, so it is always read.
                if since and cursor and cursor <= since:
                    continue
                problem, kept = page.document.check(study)
                if problem is None:
                    yield from study_rows(study, origin=page.origin, cursor=cursor)
                    continue
                # Kept whole and without a cursor: a study that could not be read does not
                # move the feed's state.
                yield SourceRow(
                    entity="clinical_trial",
                    source_id=readable_text(at(study, f"{IDENTIFICATION}.nctId")),
                    raw=kept or (study if isinstance(study, Mapping) else {"study": study}),
                    problem=problem.reason,
                    problem_field=problem.field,
                    file=page.origin.file,
                    source_uri=page.origin.uri,
                    extracted_at=page.origin.fetched_at,
                )


@hookimpl
def atmp_graph_feeds() -> list[CtGovFeed]:
    return [CtGovFeed()]


@hookimpl
def atmp_graph_claim_source(source: str) -> str | None:
    """The registry's own API, an `NCT<8 digits>.json` study file, or a directory holding one."""
    if urllib.parse.urlsplit(source).hostname in REGISTRY_HOSTS:
        return FEED
    path = Path(source)
    if STUDY_FILE.match(path.name) or any(STUDY_FILE.match(p.name) for p in path.glob("NCT*.json")):
        return FEED
    return None
