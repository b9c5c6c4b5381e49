"""A small incremental-only feed at the edge of the ingest tests: trials in a JSON list.

Each item is `{"id", "title", "updated"}`, or `{"id", "updated", "deleted": true}` for a trial
the source deleted.  Only items updated after the state are read, so a full read is never the
whole truth: the only way this feed retires a trial is by saying so.
"""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel

from atmp_graph import NoConfig, SourceRow, Stream

TRIALS = Stream(
    "clinical_trial",
    primary_key="id",
    cursor_field="updated",
    cursor_type="datetime",
    full_read_is_complete=False,
)


class JsonTrials:
    name = "json_trials"
    title = "Trials in a JSON list"
    version = "1.0"
    institution_ror: str | None = None
    streams = (TRIALS,)
    config_model: type[BaseModel] = NoConfig

    def sample(self) -> str | None:
        return None

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        since = state.get(TRIALS.entity)
        items = json.loads(Path(source).read_text(encoding="utf-8"))
        for position, item in enumerate(items, start=1):
            if not TRIALS.newer_than(item.get("updated"), since):
                continue
            yield SourceRow(
                entity=TRIALS.entity,
                source_id=item["id"],
                data={"title": item.get("title")},
                raw=item,
                cursor=item.get("updated"),
                file=Path(source).name,
                row=position,
                deleted=bool(item.get("deleted")),
            )


def write_trials(path: Path, *items: dict[str, object]) -> Path:
    path.write_text(json.dumps(list(items)), encoding="utf-8")
    return path
