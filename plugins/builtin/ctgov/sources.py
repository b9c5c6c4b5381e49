"""Where ClinicalTrials.gov studies come from: files, directories of them, or the API itself.

Every source is read as a sequence of pages, one at a time, so a run never holds more than one
page of studies: a study file (`/api/v2/studies/{nctId}` saved) is a page of one, a page file
(`{"studies": [...], "nextPageToken": ...}`) is itself, a directory is its `*.json` files in
name order, and an `http(s)://` URL of the API is paged with `nextPageToken` until it runs out.
"""

import datetime as dt
import itertools
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atmp_graph import NCT_ID
from atmp_graph.plugins.builtin.json_document import (
    JsonDocument,
    UnreadableJson,
    file_text,
    load_json,
)

USER_AGENT = "atmp-graph-ctgov/1.0 (+https://clinicaltrials.gov/data-api/api)"
_HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)


class CtGovConfig(BaseModel):
    """Settings for reading the API (files and directories need none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(default=100, ge=1, le=1000, description="studies per API page")
    query: str | None = Field(default=None, description="the API's query.term, e.g. 'ATMP'")
    max_pages: int | None = Field(default=None, ge=1, description="stop after this many pages")
    timeout_seconds: float = Field(default=30.0, gt=0, description="per API request")


class SourceUnreadable(RuntimeError):
    """The API could not be read (the ingest run stops and says why)."""


@dataclass(frozen=True)
class Origin:
    """Where one page was read: `file` names it in quarantine messages, `uri` in provenance."""

    file: str
    uri: str
    fetched_at: dt.datetime | None = None


@dataclass(frozen=True)
class Page:
    """The studies of one file or API response, or why the file holds none (and its text).

    `document` is what the studies were parsed from, which checks each against the limits.
    """

    origin: Origin
    studies: Sequence[Any] = ()
    document: JsonDocument | None = None
    problem: str | None = None
    text: str | None = None


def studies_in(document: Any) -> list[Any] | None:
    """The studies a document holds: a study is a page of one; None if it is neither."""
    if isinstance(document, Mapping):
        if "protocolSection" in document:
            return [document]
        if isinstance(document.get("studies"), list):
            return list(document["studies"])
    return None


def pages(source: str, *, settings: CtGovConfig, since: str | None) -> Iterator[Page]:
    """The pages at `source`; `since` asks the API only for studies updated since that date."""
    if _HTTP_URL.match(source):
        yield from _api_pages(source, settings=settings, since=since)
    elif "://" in source:
        raise SourceUnreadable(f"{source}: ctgov reads files, directories and http(s) URLs")
    else:
        path = Path(source)
        files = sorted(p for p in path.glob("*.json") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            yield _file_page(file)


def _file_page(path: Path) -> Page:
    origin = Origin(file=path.name, uri=str(path))
    data = path.read_bytes()
    try:
        document = load_json(data)
    except UnreadableJson as error:
        return Page(origin, problem=str(error), text=file_text(data))
    studies = studies_in(document.value)
    if studies is None:
        problem = document.explain('is neither a study nor a page of studies ({"studies": [...]})')
        return Page(origin, problem=problem, text=file_text(data))
    return Page(origin, studies, document)


def _api_pages(base: str, *, settings: CtGovConfig, since: str | None) -> Iterator[Page]:
    # `/api/v2/studies/NCT...` answers one study and takes no paging parameters.
    last_segment = urllib.parse.urlsplit(base).path.rstrip("/").rsplit("/", 1)[-1]
    single_study = bool(NCT_ID.fullmatch(last_segment))
    params = {"pageSize": str(settings.page_size)}
    if settings.query:
        params["query.term"] = settings.query
    if since:
        params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since},MAX]"
    tokens_seen: set[str] = set()
    token: str | None = None
    for fetched in itertools.count(1):
        url = base if single_study else _with_query(base, params, token)
        document, fetched_at = _get_json(url, timeout=settings.timeout_seconds)
        studies = studies_in(document.value)
        if studies is None:
            raise SourceUnreadable(f"GET {url} answered neither a study nor a page of studies")
        yield Page(Origin(file=url, uri=url, fetched_at=fetched_at), studies, document)
        token = None if single_study else document.value.get("nextPageToken")
        if not isinstance(token, str) or not token or fetched == settings.max_pages:
            return
        if token in tokens_seen:
            raise SourceUnreadable(f"GET {url} repeats the nextPageToken {token!r}")
        tokens_seen.add(token)


def _with_query(base: str, params: Mapping[str, str], token: str | None) -> str:
    """`base` with our parameters (they replace any of the same name already in it)."""
    parts = urllib.parse.urlsplit(base)
    ours = {**params, **({"pageToken": token} if token else {})}
    kept = [
        (key, value)
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if key not in ours and key != "pageToken"
    ]
    query = urllib.parse.urlencode([*kept, *ours.items()])
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _get_json(url: str, *, timeout: float) -> tuple[JsonDocument, dt.datetime]:
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    fetched_at = dt.datetime.now(dt.UTC)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read(300).decode("utf-8", "replace").strip()
        raise SourceUnreadable(
            f"GET {url} answered {error.code} {error.reason}: {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SourceUnreadable(f"GET {url} failed: {reason}") from error
    try:
        return load_json(body), fetched_at
    except UnreadableJson as error:
        raise SourceUnreadable(f"GET {url} did not answer JSON: its answer {error}") from None
