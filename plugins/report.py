"""What an ingest run reports: counts, and each quarantined record with its problems."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """Why one record was quarantined: the field (in the feed's words), its value, the reason."""

    field: str | None
    value: str | None
    reason: str

    def sentence(self) -> str:
        return f"{self.field} {self.reason}" if self.field else self.reason


@dataclass(frozen=True)
class Quarantined:
    feed: str
    entity: str
    file: str | None
    row: int | None
    source_id: str | None
    problems: tuple[Problem, ...]

    def message(self) -> str:
        """`lund_skane: projects.csv row 7 (LU-P-0006): Start '2024-13-01' is not a date ...`."""
        where = " ".join(str(part) for part in (self.file, self.row and f"row {self.row}") if part)
        who = f" ({self.source_id})" if self.source_id else ""
        reasons = "; ".join(problem.sentence() for problem in self.problems)
        return f"{self.feed}: {where or self.entity}{who}: {reasons}"


@dataclass
class IngestReport:
    feed: str
    source: str
    dry_run: bool = False
    run_id: int | None = None
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantine: list[Quarantined] = field(default_factory=list)
    suggested: int = 0  # possible matches the run found for an admin to review
    # Stored records the run retired: sent as deletions (SourceRow.deleted), or left out of
    # a complete read.  A deletion of a record that is not stored counts as unchanged.
    deleted: int = 0
    retired: int = 0
    still_open: int = 0  # records earlier runs quarantined that still wait for a fix

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def stored(self) -> int:
        """Read = stored + quarantined + deleted, always."""
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        mode = " (dry run: nothing written)" if self.dry_run else ""
        lines = [
            f"{self.feed}: read {self.read}, created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, quarantined {self.quarantined}{mode}"
        ]
        if self.deleted:
            lines.append(
                f"{self.feed}: retired {_count(self.deleted, 'record')} the source deleted"
            )
        if self.retired:
            lines.append(
                f"{self.feed}: retired {_count(self.retired, 'record')} the source no longer sends"
            )
        if self.still_open:
            lines.append(
                f"{self.feed}: {_count(self.still_open, 'record')} quarantined by earlier runs "
                f"{'is' if self.still_open == 1 else 'are'} still open "
                "(`atmp-graph quarantine list`)"
            )
        if self.suggested:
            lines.append(f"{self.feed}: {self.suggested} possible matches to review")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
