"""Structured logs: one line per request, and every stdlib log record in the same format.

The request line is written by structlog straight to standard output (no stdlib record, no
handler lock: it is on every request's path); uvicorn's and our own stdlib loggers go through
structlog's ProcessorFormatter to the same stream, so an operator reads one format.  Neither
ever holds a key or token: the line names the key's institution and role only.
"""

import logging
import os
import sys
import time
from typing import Any, TextIO

import orjson
import structlog
from starlette.types import Scope

from atmp_graph.api.observed_request import RequestRecord
from atmp_graph.api.settings import Settings

__all__ = ["RequestLog", "configure_process_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class _Timestamp:
    """An ISO 8601 UTC timestamp with microseconds, as structlog's TimeStamper writes it, at a
    fifth of its cost: the date and time to the second are formatted once a second."""

    def __init__(self) -> None:
        self._cached = (-1, "")  # one tuple, replaced whole: threads never see half of it

    def __call__(self, _logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        second = int(now)
        cached, text = self._cached
        if second != cached:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._cached = (second, text)
        event["timestamp"] = f"{text}.{int((now - second) * 1_000_000):06d}Z"
        return event


_TIMESTAMP = _Timestamp()
# Loggers uvicorn configures with handlers of its own; theirs go through ours instead.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _level(settings: Settings) -> int:
    return _LEVELS.get(settings.log_level, logging.ERROR)


def _json_text(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _renderer(settings: Settings, stream: TextIO) -> Any:
    if settings.log_format == "json":
        return structlog.processors.JSONRenderer(serializer=_json_text)
    # Plain tracebacks: rich's, with every frame's locals, took seconds each on a busy machine,
    # which an outage's burst of logged errors turned into seconds per request.
    return structlog.dev.ConsoleRenderer(
        colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


class _Stdout:
    """structlog's output: whatever standard output is when a line is written (a test's
    capture, a benchmark's /dev/null), text or, from the JSON renderer, bytes."""

    def msg(self, message: str | bytes) -> None:
        stream = sys.stdout
        if isinstance(message, bytes):
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                buffer.write(message + b"\n")
                buffer.flush()
                return
            message = message.decode()
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = error = critical = msg


class RequestLog:
    """The request line's sink (api/observed_request.py): `request` at info level; the
    probes' and /metrics' lines at debug level, so a polling load balancer adds no noise."""

    def __init__(self, settings: Settings) -> None:
        self.level = _level(settings)
        processors: list[Any] = [structlog.processors.add_log_level, _TIMESTAMP]
        if settings.log_format == "json":
            # Bytes straight from orjson to the stream's buffer: no decode, no encode.
            processors.append(structlog.processors.JSONRenderer(serializer=orjson.dumps))
        else:
            processors.append(_renderer(settings, sys.stdout))
        # Bound now: wrap_logger's lazy proxy would bind a new logger on every call.
        self.log = structlog.wrap_logger(
            _Stdout(),
            processors=processors,
            wrapper_class=structlog.make_filtering_bound_logger(self.level),
        ).bind(pid=os.getpid())

    def start(self, record: RequestRecord, scope: Scope) -> None:
        pass

    def finish(self, record: RequestRecord) -> None:
        level = logging.DEBUG if record.ops else logging.INFO
        if level < self.level:
            return
        viewer = record.viewer
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "duration_ms": round(record.duration_ms, 3),
            "sql_statements": record.statements,
            "operation_type": record.operation_type,
            "operation_name": record.operation_name,
            "role": "anonymous"
            if viewer is None or viewer.role is None
            else viewer.role.value.lower(),
            "institution_id": None if viewer is None else viewer.institution_id,
        }
        if record.read_path is not None:
            fields["read_path"] = record.read_path
        if record.errors:
            fields["errors"] = [{"code": code, "message": text} for code, text in record.errors]
        if level == logging.DEBUG:
            self.log.debug("request", **fields)
        elif record.failed:
            self.log.warning("request", **fields)
        else:
            self.log.info("request", **fields)


def configure_process_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Send this process's stdlib logging (uvicorn's, SQLAlchemy's, ours) through structlog's
    formatter at the configured level.  For a server process (the app factory, `serve`), not
    for tests, whose log capture owns the root logger."""
    stream = stream or sys.stdout
    pre_chain: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _TIMESTAMP,
    ]
    last: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if settings.log_format == "json":
        last.append(structlog.processors.format_exc_info)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain, processors=[*last, _renderer(settings, stream)]
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name("atmp_graph")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "atmp_graph"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_level(settings))
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    # The request line says all uvicorn's access line would, and more.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
