"""Reading a JSON export within the limits of plugins/limits.py.

The json module parses recursively, so a document nested thousands of levels deep raises
RecursionError, and one byte that is not UTF-8 fails the whole file.  Here the bytes are
decoded with any bad ones kept (as lone surrogates, Python's `surrogateescape`), and the text
is profiled first, in passes that run at C speed: how deep it nests, and whether any string can
be over the field-length limit.  Within the limits (every real export) it is parsed as it is,
and nothing more is done.  Otherwise every array or object that opens past the nesting-depth
limit is cut out before parsing and stands in the parsed document as a marker, and each record
is checked on its own (`JsonDocument.check`), so only the records over a limit are quarantined.
"""

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from atmp_graph import (
    MAX_FIELD_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_RECORD_SIZE,
    MAX_SOURCE_ID_LENGTH,
    field_too_long,
    kept_text,
    nested_too_deep,
    record_too_big,
    undecodable,
)

# In a copy of the text with its escapes blanked (same length, so positions hold), a string
# is a quote, anything but quotes, and a quote.
_ALL_BUT_BRACKETS = re.compile(r'"[^"]*"|[^\[\]{}"]+')  # strings, and what is not a bracket
_LONG_STRING = re.compile(f'"[^"]{{{MAX_FIELD_LENGTH + 1},}}')
_TOKEN = re.compile(r'"[^"]*"|[\[\]{}]')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1, '"': 0}  # a quote left: a string never closed
_UNDECODED = re.compile("[\udc80-\udcff]")  # a byte surrogateescape could not decode
_FIELD_NAME = 200  # characters of a field's name the quarantine keeps (its column's size)


class UnreadableJson(ValueError):
    """The file is not a JSON document; the message says where it stops being one."""


@dataclass(frozen=True)
class _Cut:
    """An array or object that opens past the nesting-depth limit, cut out before parsing."""

    index: int
    depth: int  # the deepest it goes, counted from the top of the document
    line: int
    column: int
    text: str


@dataclass(frozen=True)
class RecordProblem:
    """Why one record is quarantined: the field it is in (its path in the record), the reason."""

    field: str | None
    reason: str


_Finding = tuple[list[str], str, bool]  # path, reason, whether the record keeps as JSON


@dataclass(frozen=True)
class JsonDocument:
    """A parsed document, and what its records must still be checked for."""

    value: Any
    deepest: int
    nonce: str = ""
    cuts: tuple[_Cut, ...] = ()
    long_strings: bool = False  # a string may be over the field-length limit
    undecoded: bool = False  # the file held bytes that are not UTF-8
    big: bool = False  # the file is over the record-size limit, so a record may be

    def explain(self, reason: str) -> str:
        """A sentence about the whole file, saying too how deep it nests when over the limit."""
        if self.deepest > MAX_NESTING_DEPTH:
            return f"{reason}; it {nested_too_deep(self.deepest)}"
        return reason

    def check(self, record: Any) -> tuple[RecordProblem | None, Mapping[str, Any] | None]:
        """The problem that quarantines `record`, if any, and what to keep of it instead of
        itself where it cannot be kept as JSON (cut, undecodable, or too big): its text."""
        if not (self.cuts or self.long_strings or self.undecoded or self.big):
            return None, None
        text = self._text(record) if self.big else None
        if text is not None and len(text) > MAX_RECORD_SIZE:
            return RecordProblem(None, record_too_big(len(text))), kept_text(text)
        if not (self.cuts or self.long_strings or self.undecoded):
            return None, None
        found = next(self._findings(record, []), None)
        if found is None:
            return None, None
        path, reason, keeps_as_json = found
        raw = None if keeps_as_json else kept_text(text or self._text(record))
        return RecordProblem(_path(path), reason), raw

    def _findings(self, value: Any, path: list[str]) -> Iterator[_Finding]:
        """What in `value` is over a limit or undecodable; the recursion stays within the
        nesting-depth limit, since whatever went deeper was cut out."""
        if isinstance(value, _Cut):
            where = f"line {value.line}, column {value.column}"
            yield path, nested_too_deep(value.depth, where), False
        elif isinstance(value, str):
            yield from self._string_findings(value, path)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                yield from self._string_findings(key, [*path, key])
                yield from self._findings(item, [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self._findings(item, [*path, f"[{index}]"])

    def _string_findings(self, text: str, path: list[str]) -> Iterator[_Finding]:
        if self.undecoded and (bad := _UNDECODED.search(text)):
            yield path, undecodable(ord(bad.group()) - 0xDC00), False
        if self.long_strings and len(text) > MAX_FIELD_LENGTH:
            yield path, field_too_long(len(text)), True

    def _text(self, record: Any) -> str:
        """The record as JSON text, what was cut out put back, undecodable bytes as \\x."""

        def placeholder(value: Any) -> str:
            if isinstance(value, _Cut):
                return f"{self.nonce}:{value.index}"
            raise TypeError(f"{type(value).__name__} is not JSON")

        text = json.dumps(record, ensure_ascii=False, default=placeholder)
        for cut in self.cuts:
            text = text.replace(f'"{self.nonce}:{cut.index}"', cut.text)
        return _escaped(text)


def _path(steps: list[str]) -> str | None:
    """`protocolSection.conditionsModule.keywords[0]`, shortened past six steps."""
    if not steps:
        return None
    shown = "".join(
        step if step.startswith("[") or index == 0 else f".{step}"
        for index, step in enumerate(steps[:6])
    )
    if len(steps) > 6:
        shown += "…"
    return _escaped(shown)[:_FIELD_NAME]


def _escaped(text: str) -> str:
    """Undecodable bytes (lone surrogates) as `\\xe5`, which any database can store."""
    if not _UNDECODED.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def readable_text(value: Any) -> str | None:
    """`value` as the source id or cursor of a quarantined record: text that is decodable and
    short enough to keep, else None."""
    if not isinstance(value, str) or not value.strip() or _UNDECODED.search(value):
        return None
    value = value.strip()
    return value if len(value) <= MAX_SOURCE_ID_LENGTH else None


def file_text(data: bytes) -> str:
    """A file that cannot be read, as text to keep (`kept_text`): bad bytes as \\x escapes."""
    return _escaped(data.decode("utf-8", "surrogateescape"))


def load_json(data: bytes) -> JsonDocument:
    """Parse a JSON file's bytes within the limits; UnreadableJson if it is not JSON."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text, undecoded = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, undecoded = data.decode("utf-8", "surrogateescape"), True
    plain = text.replace("\\\\", "  ").replace('\\"', "  ")
    deepest = max(accumulate(map(_STEP.__getitem__, _ALL_BUT_BRACKETS.sub("", plain))), default=0)
    nonce = uuid.uuid4().hex
    cuts: tuple[_Cut, ...] = ()
    parsed, moves = text, list[_Move]()
    if deepest > MAX_NESTING_DEPTH:
        parsed, cuts, moves = _cut(text, plain, nonce)

    def marker(obj: dict[str, Any]) -> Any:
        return cuts[obj[nonce]] if len(obj) == 1 and nonce in obj else obj

    try:
        value = json.loads(parsed, object_hook=marker if cuts else None)
    except json.JSONDecodeError as error:
        where = _where(text, moves, error.pos)
        reason = f"is not a JSON document: {error.msg}: {where}"
        if deepest > MAX_NESTING_DEPTH:
            reason += f"; it {nested_too_deep(deepest)}"
        raise UnreadableJson(reason) from None
    except RecursionError:  # what the cuts are for; a last guard all the same
        raise UnreadableJson(f"cannot be parsed: it {nested_too_deep(deepest)}") from None
    return JsonDocument(
        value,
        deepest,
        nonce,
        cuts,
        long_strings=_LONG_STRING.search(plain) is not None,
        undecoded=undecoded,
        big=len(text) > MAX_RECORD_SIZE,
    )


_Move = tuple[int, int, int, int]  # a cut's start and end in the parsed text, then in the file


def _cut(text: str, plain: str, nonce: str) -> tuple[str, tuple[_Cut, ...], list[_Move]]:
    """`text` with every array or object that opens past the limit replaced by a marker
    object, the cuts, and where each moved the text after it."""
    pieces: list[str] = []
    cuts: list[_Cut] = []
    moves: list[_Move] = []
    depth = deepest = 0
    start: int | None = None
    # The file's text is kept up to `done`, `kept` characters of it so far; its lines are
    # counted up to `counted`.
    done = kept = line = counted = 0

    def close(end: int) -> None:
        nonlocal done, kept, line, counted
        assert start is not None
        line += text.count("\n", counted, start)
        counted = start
        column = start - text.rfind("\n", 0, start)
        cut = _Cut(len(cuts), deepest, line + 1, column, text[start:end])
        marker = json.dumps({nonce: cut.index})
        pieces.extend((text[done:start], marker))
        kept += start - done
        moves.append((kept, kept + len(marker), start, end))
        kept += len(marker)
        cuts.append(cut)
        done = end

    for token in _TOKEN.finditer(plain):
        bracket = token.group()
        if bracket.startswith('"'):
            continue
        depth += _STEP[bracket]
        if start is None and depth > MAX_NESTING_DEPTH:
            start, deepest = token.start(), depth
        elif start is not None and depth > deepest:
            deepest = depth
        elif start is not None and depth == MAX_NESTING_DEPTH:
            close(token.end())
            start = None
    if start is not None:  # never closed: the cut runs to the end of the file
        close(len(text))
    pieces.append(text[done:])
    return "".join(pieces), tuple(cuts), moves


def _where(text: str, moves: list[_Move], position: int) -> str:
    """`line 3 column 7 (char 40)` in the file, for a position in the text parsed."""
    shift = 0
    for kept_start, kept_end, start, end in moves:
        if position < kept_start:
            break
        if position < kept_end:
            shift = start - position
            break
        shift = end - kept_end
    position += shift
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line} column {column} (char {position})"
