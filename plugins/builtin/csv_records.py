"""Reading a CSV file record by record, within the limits of plugins/limits.py.

The csv module reads a file as one stream: a field over its size limit, or a line that is not
UTF-8, raises and ends the whole file.  Here each record is cut out of the file first (its
lines: a quoted field may span several) and decoded and split on its own, so whatever is wrong
with one record stays with that record.  The rules are the csv module's (excel dialect): a
quote opens a quoted field only as the field's first character, and inside one `""` is a quote.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from atmp_graph import (
    MAX_FIELD_LENGTH,
    MAX_RECORD_SIZE,
    field_too_long,
    record_too_big,
    undecodable,
)

# UTF-8 takes at most 4 bytes a character: a line of MAX_RECORD_SIZE characters fits in this.
_LINE_BYTES = 4 * MAX_RECORD_SIZE + 4
_CHUNK = 1 << 20
_DECODER = codecs.getincrementaldecoder("utf-8")
# csv (opening files with newline="") ends a line at \n, \r\n or a lone \r.
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


class CsvRecord(NamedTuple):
    """One record: its cells, or why it has none.

    `line` is its last line, as csv.reader's `line_num` counts; `text` is the record as read,
    without its line end, bytes that are not UTF-8 as `\\x` escapes, and only its beginning
    when it is over the record-size limit (`size` is then its whole length).  A record with a
    `problem` still has the `cells` that could be read, and `column` says which field the
    problem is in, where it is in one.
    """

    line: int
    text: str
    size: int
    cells: tuple[str, ...]
    problem: str | None = None
    column: int | None = None


class _Line(NamedTuple):
    number: int
    text: str
    size: int  # its length in characters, also the part not read (a line over the limit)
    bad_byte: tuple[int, int] | None = None  # (the byte, its character) of the first bad one


def csv_records(path: Path, *, delimiter: str = ";") -> Iterator[CsvRecord]:
    """The file's records, the header first; UTF-8, with or without a byte-order mark."""
    with path.open("rb") as export:
        lines = _lines(export)
        for first in lines:
            group, size = [first], first.size
            inside = '"' in first.text and _ends_inside_quotes(first.text, False, delimiter)
            # A record over the size limit ends there; reading goes on at the next line.
            while inside and size <= MAX_RECORD_SIZE and (following := next(lines, None)):
                group.append(following)
                size += following.size
                inside = _ends_inside_quotes(following.text, True, delimiter)
            yield _record(group, delimiter, closed=not inside)


def _lines(export: BinaryIO) -> Iterator[_Line]:
    """The file's lines, each decoded on its own, with its line end."""
    number = 0
    while chunk := export.readline(_LINE_BYTES):
        cut = len(chunk) == _LINE_BYTES and not chunk.endswith(b"\n")
        size = _rest_of_line(export, chunk) if cut else None
        if number == 0:
            chunk = chunk.removeprefix(codecs.BOM_UTF8)
        bad_byte = None
        try:
            # A line cut short may end inside a character, which is no error.
            text = _DECODER().decode(chunk, final=False) if cut else chunk.decode("utf-8")
        except UnicodeDecodeError as error:
            text = chunk.decode("utf-8", "backslashreplace")
            bad_byte = (chunk[error.start], len(chunk[: error.start].decode("utf-8")))
        start = 0
        for piece in _LONE_CR.split(text) if "\r" in text else [text]:
            if not piece:
                continue
            number += 1
            bad = None
            if bad_byte is not None and start <= bad_byte[1] < start + len(piece):
                bad = (bad_byte[0], bad_byte[1] - start)
            last = start + len(piece) == len(text)
            yield _Line(number, piece, size - start if size and last else len(piece), bad)
            start += len(piece)


def _rest_of_line(export: BinaryIO, head: bytes) -> int:
    """Read past the rest of a line too long to keep; its length in characters."""
    decoder = _DECODER("replace")
    size = len(decoder.decode(head))
    while chunk := export.readline(_CHUNK):
        size += len(decoder.decode(chunk))
        if chunk.endswith(b"\n"):
            break
    return size + len(decoder.decode(b"", final=True))


def _ends_inside_quotes(line: str, inside: bool, delimiter: str) -> bool:
    """Whether a record is inside a quoted field at the end of `line`, given whether it was
    at its start."""
    i = 0
    if not inside and line.startswith('"'):
        inside, i = True, 1
    while True:
        if inside:
            close = line.find('"', i)
            if close < 0:
                return True
            if line.startswith('"', close + 1):  # "" is a quote inside a quoted field
                i = close + 2
                continue
            inside, i = False, close + 1
        end = line.find(delimiter, i)
        if end < 0:
            return False
        i = end + 1
        if line.startswith('"', i):
            inside, i = True, i + 1


def _record(group: list[_Line], delimiter: str, *, closed: bool) -> CsvRecord:
    last = group[-1]
    whole = last.text if len(group) == 1 else "".join(line.text for line in group)
    # A quote never closed takes the line end in, as csv does (at the end of the file).
    text = whole.removesuffix("\n").removesuffix("\r") if closed else whole
    if len(group) == 1 and last.bad_byte is None and last.size <= MAX_FIELD_LENGTH:
        # The common case, quickly: one line, and no field in it can be over a limit.
        return _parsed(last.number, text, len(text), delimiter)
    size = len(text) + sum(line.size - len(line.text) for line in group)
    line = last.number
    if size > MAX_RECORD_SIZE:
        # The last field read may be cut short: only the ones before it are whole.
        spans = _field_spans(text, delimiter)
        cells = tuple(_unquote(text[start:end]) for start, end in spans[:-1])
        return CsvRecord(line, text, size, cells, record_too_big(size))
    offset = 0
    for physical in group:
        if physical.bad_byte is not None:
            byte, character = physical.bad_byte
            where = f"line {physical.number}, character {character + 1}"
            spans = _field_spans(text, delimiter)
            cells = tuple(_unquote(text[start:end]) for start, end in spans)
            column = _column(spans, offset + character)
            return CsvRecord(line, text, size, cells, undecodable(byte, where), column)
        offset += len(physical.text)
    if len(text) > MAX_FIELD_LENGTH:  # otherwise no field can be over the limit
        values = [_unquote(text[start:end]) for start, end in _field_spans(text, delimiter)]
        for index, value in enumerate(values):
            if len(value) > MAX_FIELD_LENGTH:
                cells = tuple("" if len(v) > MAX_FIELD_LENGTH else v for v in values)
                return CsvRecord(line, text, size, cells, field_too_long(len(value)), index)
    return _parsed(line, text, size, delimiter)


def _parsed(line: int, text: str, size: int, delimiter: str) -> CsvRecord:
    try:
        cells = tuple(next(csv.reader((text,), delimiter=delimiter), ()))
    except csv.Error as error:  # csv's own limit, should someone have set it below ours
        return CsvRecord(line, text, size, (), f"cannot be read as CSV: {error}")
    return CsvRecord(line, text, size, cells)


def _field_spans(text: str, delimiter: str) -> list[tuple[int, int]]:
    """Where each field of one record's text is (its quotes included)."""
    spans: list[tuple[int, int]] = []
    start = i = 0
    while True:
        if text.startswith('"', i):
            close = _closing_quote(text, i + 1)
            if close is None:
                spans.append((start, len(text)))
                return spans
            i = close + 1
        end = text.find(delimiter, i)
        if end < 0:
            spans.append((start, len(text)))
            return spans
        spans.append((start, end))
        start = i = end + 1


def _closing_quote(text: str, i: int) -> int | None:
    """The quote that closes a quoted field whose text starts at `i` ("" is not one)."""
    while (close := text.find('"', i)) >= 0:
        if not text.startswith('"', close + 1):
            return close
        i = close + 2
    return None


def _unquote(field: str) -> str:
    """A field's value as csv reads it: without the quotes around it, a doubled quote one."""
    if not field.startswith('"'):
        return field
    close = _closing_quote(field, 1)
    if close is None:
        return field[1:].replace('""', '"')
    return field[1:close].replace('""', '"') + field[close + 1 :]


def _column(spans: list[tuple[int, int]], position: int) -> int | None:
    for index, (start, end) in enumerate(spans):
        if start <= position <= end:
            return index
    return None
