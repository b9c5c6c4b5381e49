"""Ingest progress: a live bar on a terminal, plain log lines everywhere else."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from atmp_graph.plugins.report import IngestReport

LOG_EVERY = 10_000


@contextmanager
def ingest_progress(feed: str) -> Iterator[Callable[[IngestReport], None]]:
    """Yield the callback the ingest calls after each record."""
    if not sys.stderr.isatty():

        def log_line(report: IngestReport) -> None:
            if report.read % LOG_EVERY == 0:
                click.echo(
                    f"{feed}: {report.read} read, {report.quarantined} quarantined", err=True
                )

        yield log_line
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} read, {task.fields[quarantined]} quarantined"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(feed, total=None, quarantined=0)

        def advance(report: IngestReport) -> None:
            progress.update(task, completed=report.read, quarantined=report.quarantined)

        yield advance
