"""The `atmp-graph` command: serve, ingest, worker, plugins, review, quarantine, persisted, db
upgrade, export-schema, check-schema.

Failures the user can act on print one sentence and exit 1; a traceback means a bug.
"""

import contextlib
import dataclasses
import datetime as dt
import getpass
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import uvicorn
from sqlalchemy import Engine, inspect, make_url, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from atmp_graph.access.keys import KeyRefused, all_keys, create_key, revoke, server_secret
from atmp_graph.api.demo import load_demo
from atmp_graph.api.http_protocol import HTTP_PROTOCOL
from atmp_graph.api.live_updates import install_publisher
from atmp_graph.api.metrics import (
    MULTIPROC_DIR,
    prepare_multiprocess_directory,
    remove_multiprocess_directory,
)
from atmp_graph.api.persisted import register_documents
from atmp_graph.api.progress import ingest_progress
from atmp_graph.api.request_log import configure_process_logging
from atmp_graph.api.settings import Settings
from atmp_graph.enums import QuarantineStatus, Role
from atmp_graph.identity import audited
from atmp_graph.identity.curation import InvalidInput
from atmp_graph.identity.lookup import institutions_matching
from atmp_graph.identity.merging import MergeError
from atmp_graph.identity.precedence import Precedence, PrecedenceError, load_precedence
from atmp_graph.identity.review import ALIASED, review_queue
from atmp_graph.ingest import MAX_RETIRED_SHARE, IngestError, ingest
from atmp_graph.jobs import JobsConfigError, load_jobs_config
from atmp_graph.jobs.drain import JobContext
from atmp_graph.jobs.lease import FeedBusy, holding
from atmp_graph.jobs.queue import RedisQueue
from atmp_graph.jobs.worker import run_worker
from atmp_graph.model import Base, Institution, PersistedDocument, QuarantinedRecord, quarantine
from atmp_graph.model.audit import Actor
from atmp_graph.model.database import UnsupportedDatabase, make_engine, upgrade
from atmp_graph.model.kinds import model_for
from atmp_graph.model.quarantine import latest_quarantine_containing
from atmp_graph.plugins.feeds import ConfigError
from atmp_graph.plugins.manager import PluginError, PluginHost, PluginInfo, build_plugin_host
from atmp_graph.plugins.report import IngestReport

# A command line run holds its feed like a worker does, so neither runs beside the other.
CLI_LEASE = dt.timedelta(seconds=60)
WORKER_HEALTHCHECK_SECONDS = 60


@contextmanager
def _one_sentence_errors() -> Iterator[None]:
    try:
        yield
    except (
        UnsupportedDatabase,
        IngestError,
        PluginError,
        ConfigError,
        FileNotFoundError,
        MergeError,
        InvalidInput,
        PrecedenceError,
        quarantine.QuarantineError,
        JobsConfigError,
        FeedBusy,
    ) as error:
        raise click.ClickException(str(error)) from error
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise click.ClickException(f"cannot use the database: {reason}") from error


class _WarnOncePerCommand(logging.Handler):
    """Prints each plugin failure the host logs as one `warning:` line, the first time only:
    a command may build more than one host (`serve --demo`, then the app), and without a
    handler Python would print the bare message too."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.printed: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.printed:
            self.printed.add(message)
            click.echo(f"warning: {message}", err=True)


def _report_plugin_failures() -> None:
    logger = logging.getLogger("atmp_graph.plugins")
    if not any(isinstance(handler, _WarnOncePerCommand) for handler in logger.handlers):
        logger.addHandler(_WarnOncePerCommand())
        logger.propagate = False


def plugin_host(settings: Settings) -> PluginHost:
    """The plugin host; a broken plugin is reported (once) on stderr as the host meets it."""
    return build_plugin_host(
        load_entry_points=settings.plugins_from_entry_points, only=settings.only_plugins
    )


def _with_unchecked_records(settings: Settings, infos: list[PluginInfo]) -> list[PluginInfo]:
    """The listing plus what validation hooks raised on in the latest ingests, which ran in
    other processes and left their trace in the quarantine.  The listing does not need the
    database: one that is not there, or not reachable, adds nothing."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return infos  # opening it would create the file
    try:
        engine = make_engine(settings.database_url)
    except UnsupportedDatabase:
        return infos
    try:
        if "alembic_version" not in inspect(engine).get_table_names():
            return infos
        with Session(engine) as session:
            return [
                info.with_unchecked(
                    (feed, run, count, reason)
                    for feed, run, count, reason in session.execute(
                        latest_quarantine_containing(mark)
                    )
                )
                if (mark := info.unchecked_mark())
                else info
                for info in infos
            ]
    except OperationalError:
        return infos
    finally:
        engine.dispose()


def _print_report(report: IngestReport) -> None:
    click.echo(report.summary())
    for entry in report.quarantine:
        click.echo(f"  quarantined: {entry.message()}")


def _require_schema(engine: Engine) -> None:
    if "alembic_version" not in inspect(engine).get_table_names():
        raise click.ClickException(
            "the database has no ATMP Graph tables yet: run `atmp-graph db upgrade` first"
        )


@click.group()
@click.version_option(package_name="atmp-graph")
def main() -> None:
    """ATMP Graph: the Lund–Skåne–LUMC ATMP collaboration as one GraphQL API."""
    _report_plugin_failures()


@main.command()
@click.option("--demo", is_flag=True, help="Migrate the database and load the bundled demo feeds.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(demo: bool, host: str, port: int, workers: int) -> None:
    """Serve GraphQL (GraphiQL in a browser) at http://HOST:PORT/graphql."""
    settings = Settings()
    with _one_sentence_errors():
        # The app builds its own host; this one says at once what is wrong with the plugins.
        plugins = plugin_host(settings)
        if settings.jobs_config is not None:
            load_jobs_config(settings.jobs_config, plugins.feeds())  # and with the jobs file
        if demo or settings.is_sqlite:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        _require_schema(engine)
        if demo:
            precedence = load_precedence(settings.precedence)
            for report in load_demo(engine, plugins, precedence=precedence):
                _print_report(report)
        engine.dispose()
    # Workers are separate processes: they read the same settings from the environment.
    os.environ["ATMP_DATABASE_URL"] = settings.database_url
    configure_process_logging(settings)
    click.echo(f"GraphiQL: http://{host}:{port}/graphql")
    with _metrics_shared_by(workers):
        uvicorn.run(
            "atmp_graph.api.app:app_from_environment",
            factory=True,
            http=HTTP_PROTOCOL,
            host=host,
            port=port,
            workers=workers,
            # Our logging, set up in each worker by the factory; our request line replaces
            # uvicorn's access line.
            log_config=None,
            access_log=False,
            # On SIGTERM uvicorn stops accepting and lets the requests in flight finish.
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
            # uvicorn kills a worker that does not answer its supervisor's ping within this;
            # its 5 s default killed workers still starting on a busy machine, over and over.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )


@contextmanager
def _metrics_shared_by(workers: int) -> Iterator[None]:
    """With several workers, a directory where each writes its metrics (api/metrics.py):
    PROMETHEUS_MULTIPROC_DIR if the operator set it, else a temporary one, removed after."""
    if workers == 1:
        yield
        return
    given = os.environ.get(MULTIPROC_DIR)
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="atmp-graph-metrics-"))
    prepare_multiprocess_directory(directory)
    os.environ[MULTIPROC_DIR] = str(directory)
    try:
        yield
    finally:
        if not given:
            os.environ.pop(MULTIPROC_DIR, None)
            remove_multiprocess_directory(directory)


@main.command("ingest")
@click.argument("arguments", nargs=-1, required=True, metavar="[FEED] SOURCE")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--full", is_flag=True, help="Read everything, not only what is new.")
@click.option(
    "--config", "-c", "settings_", multiple=True, metavar="KEY=VALUE", help="A feed setting."
)
@click.option(
    "--max-retired",
    type=click.FloatRange(0, 100),
    default=MAX_RETIRED_SHARE * 100,
    show_default=True,
    metavar="PERCENT",
    help="Stop, writing nothing, if the run would retire more of the feed's records.",
)
def ingest_command(
    arguments: tuple[str, ...],
    dry_run: bool,
    full: bool,
    settings_: tuple[str, ...],
    max_retired: float,
) -> None:
    """Ingest the export at SOURCE (a path or URL) through the feed FEED.

    Without FEED, the plugins are asked which feed reads SOURCE.  Records a complete read no
    longer has are retired, unless that is more than --max-retired percent of the feed's.
    """
    if len(arguments) > 2:
        raise click.UsageError("give at most FEED and SOURCE")
    settings = Settings()
    with _one_sentence_errors():
        host = plugin_host(settings)
        adapters = host.feeds()
        source = arguments[-1]
        feed = arguments[0] if len(arguments) == 2 else host.claim(source)
        if feed is None:
            raise click.ClickException(
                f"no feed plugin claims {source!r}: name the feed, as in `atmp-graph ingest FEED "
                "SOURCE`"
            )
        if feed not in adapters:
            known = ", ".join(sorted(adapters))
            raise click.ClickException(f"there is no feed named {feed!r}; the feeds are: {known}")
        config = dict(_key_value(item) for item in settings_)
        engine = make_engine(settings.database_url)
        if settings.is_sqlite:
            upgrade(settings.database_url)
        _require_schema(engine)
        with contextlib.ExitStack() as done:
            done.callback(engine.dispose)
            # Servers elsewhere hear of each batch's changes at once (without Redis: by
            # polling).
            uninstall = install_publisher(settings)
            if uninstall is not None:
                done.callback(uninstall)
            # A dry run writes nothing, so it may read beside a worker running the feed.
            if not dry_run:
                done.enter_context(holding(engine, feed, ttl=CLI_LEASE))
            on_record = done.enter_context(ingest_progress(feed))
            report = ingest(
                engine,
                adapters[feed],
                source,
                config=config,
                dry_run=dry_run,
                full=full,
                host=host,
                on_record=on_record,
                precedence=load_precedence(settings.precedence),
                max_retired_share=max_retired / 100,
            )
        _print_report(report)


@main.command("worker")
@click.option(
    "--config",
    "jobs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The jobs file (default: ATMP_JOBS_CONFIG).",
)
def worker_command(jobs_file: Path | None) -> None:
    """Run ingest jobs from Redis: those runIngest asks for, and those the jobs file
    schedules.  Stops on SIGTERM or Ctrl-C once the runs in progress have finished."""
    settings = Settings()
    jobs_file = jobs_file or settings.jobs_config
    if jobs_file is None:
        raise click.ClickException(
            "name the jobs file: `atmp-graph worker --config FILE`, or set ATMP_JOBS_CONFIG"
        )
    if not settings.redis_url:
        raise click.ClickException(
            "the worker takes its jobs from Redis: set ATMP_REDIS_URL (without Redis, "
            "`atmp-graph serve` runs the jobs itself)"
        )
    with _one_sentence_errors():
        host = plugin_host(settings)
        config = load_jobs_config(jobs_file, host.feeds())
        if settings.is_sqlite:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        _require_schema(engine)
        context = JobContext(engine, config, host, load_precedence(settings.precedence))
    configure_process_logging(settings)
    for job in config.feeds.values():
        when = job.schedule.text if job.schedule else "on demand"
        click.echo(f"worker: {job.feed} from {job.source}, {when}", err=True)
    # Servers hear of each batch a job commits at once, through Redis.
    uninstall = install_publisher(settings)
    try:
        run_worker(context, RedisQueue(settings.redis_url, prefix=settings.redis_prefix))
    finally:
        if uninstall is not None:
            uninstall()
        engine.dispose()


def _key_value(item: str) -> tuple[str, str]:
    key, equals, value = item.partition("=")
    if not equals or not key:
        raise click.ClickException(f"--config {item!r} is not KEY=VALUE")
    return key.strip(), value.strip()


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List every plugin with its version, hooks and feeds (broken ones with the reason)."""
    settings = Settings()
    with _one_sentence_errors():
        infos = _with_unchecked_records(settings, plugin_host(settings).describe())
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(info) for info in infos], indent=2))
        return
    rows: list[tuple[Any, ...]] = [("plugin", "version", "feeds", "hooks", "status")]
    for info in infos:
        status = "error: " + "; ".join(info.errors) if info.errors else "ok"
        kind = " (built-in)" if info.builtin else ""
        rows.append(
            (info.name + kind, info.version or "-", ", ".join(info.feeds) or "-",
             ", ".join(hook.removeprefix("atmp_graph_") for hook in info.hooks) or "-", status)
        )  # fmt: skip
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, str(row[-1])]).rstrip())


@main.group()
def review() -> None:
    """Judge possible matches, merge and split nodes, edit aliases (admin work)."""


@review.command("list")
@click.option("--all", "everything", is_flag=True, help="Decided suggestions too.")
def review_list(everything: bool) -> None:
    """The review queue: possible matches waiting for a decision."""
    with _admin_session() as session:
        rows = review_queue(session, pending_only=not everything)
        for row in rows:
            click.echo(row)
        if not rows:
            click.echo("nothing to review")


# Who did it, for the audit log every curation command writes.
_by = click.option(
    "--by", default=getpass.getuser, show_default="your login name", help="Who, for the record."
)


def _actor(by: str) -> Actor:
    # No key, no role: the audit log tells a command-line user by these being empty.
    return Actor(who=by)


@review.command("accept")
@click.argument("suggestion", type=int)
@click.option("--survivor", type=int, help="The id of the node that keeps its id.")
@_by
def review_accept(suggestion: int, survivor: int | None, by: str) -> None:
    """Merge the pair SUGGESTION names into one node."""
    with _admin_session() as session:
        merge = audited.accept_match(
            session, _actor(by), suggestion, precedence=_precedence(), survivor_id=survivor
        )
        click.echo(
            f"suggestion {suggestion}: the two were one node already"
            if merge is None
            else f"merge {merge.id}: {merge.entity_type} {merge.merged_id} is now "
            f"{merge.survivor_id} (undo with `atmp-graph review split {merge.id}`)"
        )


@review.command("reject")
@click.argument("suggestion", type=int)
@_by
def review_reject(suggestion: int, by: str) -> None:
    """The pair SUGGESTION names are two things: never suggest them again."""
    with _admin_session() as session:
        audited.reject_match(session, _actor(by), suggestion)
    click.echo(f"suggestion {suggestion}: rejected")


@review.command("merge")
@click.argument("kind")
@click.argument("survivor", type=int)
@click.argument("merged", type=int)
@click.option("--reason", required=True, help="Why, for the record.")
@_by
def review_merge(kind: str, survivor: int, merged: int, reason: str, by: str) -> None:
    """Merge node MERGED into SURVIVOR, both of KIND (institution, product, clinical_trial …)."""
    with _admin_session() as session:
        model = _model(kind)
        record = audited.merge_nodes(
            session, _actor(by), model, survivor, merged, reason=reason, precedence=_precedence()
        )
        click.echo(f"merge {record.id}: {kind} {merged} is now {survivor}")


@review.command("split")
@click.argument("merge_id", type=int)
@_by
def review_split(merge_id: int, by: str) -> None:
    """Undo merge MERGE_ID: the merged node comes back under its own id and stays apart."""
    with _admin_session() as session:
        record = audited.split_merge(session, _actor(by), merge_id, precedence=_precedence())
        click.echo(f"merge {merge_id}: split; {record.entity_type} {record.merged_id} is back")


@review.command("alias")
@click.argument("action", type=click.Choice(["add", "remove"]))
@click.argument("kind", type=click.Choice(sorted(ALIASED)))
@click.argument("node", type=int)
@click.argument("name")
@_by
def review_alias(action: str, kind: str, node: int, name: str, by: str) -> None:
    """Add NAME to, or remove it from, the aliases of node NODE of KIND."""
    with _admin_session() as session:
        aliases = audited.edit_alias(session, _actor(by), kind, node, name, add=action == "add")
    click.echo(f"{kind} {node} goes by: " + "; ".join(aliases))


@main.group("quarantine")
def quarantine_group() -> None:
    """What feeds sent that could not be stored: list it, discard what needs no fix."""


STATUSES = [status.value.lower() for status in QuarantineStatus]


@quarantine_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "all"]),
    default="open",
    show_default=True,
    help="Which records: open ones are still wrong.",
)
@click.option("--feed", help="Only this feed's.")
def quarantine_list(status: str, feed: str | None) -> None:
    """Quarantined records, a line each: number, status, the run that found it, the reason."""
    wanted = None if status == "all" else QuarantineStatus(status.upper())
    with _admin_session() as session:
        lines = [
            _quarantine_line(entry)
            for entry in quarantine.entries(session, status=wanted, feed=feed)
        ]
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(
            "nothing open in the quarantine" if status == "open" else "no quarantined records"
        )


def _quarantine_line(entry: QuarantinedRecord) -> str:
    status = {
        QuarantineStatus.OPEN: "open",
        QuarantineStatus.RESOLVED: f"resolved by run {entry.resolved_by_run_id}",
        QuarantineStatus.SUPERSEDED: f"quarantined again by run {entry.resolved_by_run_id}",
        QuarantineStatus.DISCARDED: f"discarded by {entry.discarded_by}: {entry.discard_reason}",
    }[entry.status]
    return f"{entry.id}  {status}  run {entry.run_id}  {entry.reason}"


@quarantine_group.command("discard")
@click.argument("number", type=int)
@click.option("--reason", required=True, help="Why it needs no fix, for the record.")
@_by
def quarantine_discard(number: int, reason: str, by: str) -> None:
    """Discard open quarantined record NUMBER: it needs no fix (gone at its source, say)."""
    with _admin_session() as session:
        audited.discard_quarantined(session, _actor(by), number, reason=reason)
    click.echo(f"quarantined record {number}: discarded ({reason.strip()})")


@quarantine_group.command("reingest")
@click.argument("number", type=int)
@click.option("--reason", required=True, help="Why it is to be read again, for the record.")
@_by
def quarantine_reingest(number: int, reason: str, by: str) -> None:
    """Have open quarantined record NUMBER read again: the feed's next run reads its stream
    whole, whatever the feed's cursor says."""
    with _admin_session() as session:
        entry = audited.request_reingest(session, _actor(by), number, reason=reason)
        feed = entry.feed
    click.echo(f"quarantined record {number}: the next run of {feed} reads it again")


def _precedence() -> Precedence:
    return load_precedence(Settings().precedence)


def _model(kind: str) -> type[Base]:
    try:
        return model_for(kind)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _admin_session() -> Iterator[Session]:
    """One transaction on the configured database; errors print as one sentence."""
    with _one_sentence_errors():
        engine = make_engine(Settings().database_url)
        _require_schema(engine)
        with Session(engine, autoflush=False) as session, session.begin():
            yield session
        engine.dispose()


@main.group()
def persisted() -> None:
    """The documents the API runs when ATMP_PERSISTED_ONLY is set (admin work)."""


DOCUMENT_SUFFIXES = (".graphql", ".gql")


def _document_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in DOCUMENT_SUFFIXES)
            if not found:
                raise click.ClickException(f"{path}: no .graphql or .gql files in this folder")
            files.extend(found)
        else:
            files.append(path)
    return files


def _checked_documents(files: list[Path]) -> list[tuple[str, str]]:
    """(file, text) of each file, every one checked against the schema first: a document
    that cannot run would only be refused later, at a client's first request."""
    from graphql import GraphQLError, parse, validate  # noqa: PLC0415

    # Building the schema takes a while; only the commands that use it import it.
    from atmp_graph.schema.schema import schema  # noqa: PLC0415

    documents = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            errors = validate(schema._schema, parse(text))
        except GraphQLError as error:
            errors = [error]
        if errors:
            reason = errors[0].message.rstrip(".")
            raise click.ClickException(f"{file}: {reason}; nothing was registered")
        documents.append((str(file), text))
    return documents


@persisted.command("add")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="FILE...",
)
def persisted_add(paths: tuple[Path, ...]) -> None:
    """Register the documents in FILE... (files, or folders of .graphql/.gql files).

    Prints each document's hash: the SHA-256 of the file's exact text, which a client sends
    as extensions.persistedQuery.sha256Hash (or it sends that exact text as the query).
    """
    documents = _checked_documents(_document_files(paths))
    with _admin_session() as session:
        registered = register_documents(session, documents)
    for sha, source, is_new in registered:
        click.echo(f"{sha}  {source}" + ("" if is_new else "  (registered already)"))


@persisted.command("list")
def persisted_list() -> None:
    """The registered documents: hash, when, and the file each came from."""
    with _admin_session() as session:
        rows = session.execute(
            select(
                PersistedDocument.sha256, PersistedDocument.added_at, PersistedDocument.source
            ).order_by(PersistedDocument.added_at, PersistedDocument.sha256)
        ).all()
    for sha, added_at, source in rows:
        click.echo(f"{sha}  {added_at:%Y-%m-%d %H:%M}  {source}")
    if not rows:
        click.echo("no persisted documents: register some with `atmp-graph persisted add FILE`")


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the tables to REVISION."""
    settings = Settings()
    with _one_sentence_errors():
        upgrade(settings.database_url, revision)
    click.echo(f"database is at revision {revision}")


def _built_sdl() -> str:
    # Building the schema takes a while; only the commands that print or check it need it.
    from atmp_graph.schema.schema import schema  # noqa: PLC0415

    return schema.as_str() + "\n"


@main.command("export-schema")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write to this file.")
def export_schema(output: Path | None) -> None:
    """Print the GraphQL schema (SDL)."""
    sdl = _built_sdl()
    if output is None:
        click.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


_text_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command("check-schema")
@click.option("--baseline", type=_text_file, default="schema/baseline.graphql", show_default=True)
@click.option("--changelog", type=_text_file, default="CHANGELOG.md", show_default=True)
@click.option("--committed", type=_text_file, default="schema.graphql", show_default=True)
def check_schema(baseline: Path, changelog: Path, committed: Path) -> None:
    """Fail on a breaking change from the baseline schema that CHANGELOG's `## Unreleased`
    does not declare, on a stale schema.graphql, or on a deprecation without a reason; print
    every breaking and dangerous change.  Run in the repository."""
    from graphql import GraphQLError  # noqa: PLC0415

    from atmp_graph.schema import contract  # noqa: PLC0415

    built = _built_sdl()
    try:
        report = contract.check(
            baseline=baseline.read_text(encoding="utf-8"),
            built=built,
            changelog=changelog.read_text(encoding="utf-8"),
        )
    except (GraphQLError, TypeError) as error:
        reason = str(error).splitlines()[0]
        raise click.ClickException(f"{baseline} is not a GraphQL schema: {reason}") from None
    for line in report.lines():
        click.echo(line)
    problems = []
    if committed.read_text(encoding="utf-8") != built:
        problems.append(
            f"{committed} is not the schema the code builds: run "
            f"`atmp-graph export-schema -o {committed}`"
        )
    if report.undeclared:
        first = report.undeclared[0].coordinate
        problems.append(
            f"{len(report.undeclared)} breaking change(s) from {baseline} not declared: name "
            f'each under "## Unreleased" in {changelog} in a line "- Breaking: `{first}`: what '
            'clients do instead", or keep the old schema working beside the new'
        )
    if report.deprecated_without_reason:
        problems.append(
            f"{len(report.deprecated_without_reason)} deprecation(s) without a reason: "
            "say in @deprecated(reason: ...) what to use instead"
        )
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo(
        f"{committed} is current and keeps the contract of {baseline}: "
        f"{len(report.declared)} declared breaking, {len(report.dangerous)} dangerous change(s)"
    )


@main.group()
def keys() -> None:
    """API keys: each speaks for one institution with one role (partner, curator, admin)."""


@keys.command("create")
@click.option("--institution", required=True, help="The institution's ROR id or key.")
@click.option(
    "--role", required=True, type=click.Choice([r.value.lower() for r in Role]), help="Its role."
)
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day it works.")
@click.option("--label", help="What it is for, for the listing.")
def keys_create(institution: str, role: str, expires: Any, label: str | None) -> None:
    """Make a key and print it, once: only its keyed hash is kept."""
    settings = Settings()
    with _admin_session() as session:
        ror = institution.strip().removeprefix("https://ror.org/")
        found = institutions_matching(session, ror_id=ror, key=institution.strip())
        if not found:
            raise click.ClickException(f"no institution has the ROR id or key {institution!r}")
        secret = server_secret(
            session, settings.secret_key.get_secret_value() if settings.secret_key else None
        )
        ends = None if expires is None else (expires + dt.timedelta(days=1)).replace(tzinfo=dt.UTC)
        made = create_key(
            session,
            secret=secret,
            institution_id=found[0],
            role=Role(role.upper()),
            expires_at=ends,
            label=label,
        )
        click.echo(made.token)
        click.echo(
            f"(key {made.key.prefix}: shown once; send it as `Authorization: Bearer <key>`)",
            err=True,
        )


@keys.command("list")
def keys_list() -> None:
    """Every key: prefix, institution, role, when it was made and until when it works."""
    with _admin_session() as session:
        names = dict(session.execute(select(Institution.id, Institution.name)).all())
        for key in all_keys(session):
            state = (
                "revoked"
                if key.revoked_at
                else f"expires {key.expires_at:%Y-%m-%d}"
                if key.expires_at
                else "active"
            )
            click.echo(
                f"{key.prefix}  {key.role.value.lower():8}  {names.get(key.institution_id)}  "
                f"made {key.created_at:%Y-%m-%d}  {state}  {key.label or ''}".rstrip()
            )


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Stop the key PREFIX (as `keys list` shows it) from working, at once."""
    with _admin_session() as session:
        try:
            key = revoke(session, prefix)
        except KeyRefused as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"key {key.prefix} revoked")
