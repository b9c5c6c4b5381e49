"""The limits every record is read within, and the sentences that quarantine what exceeds them.

One export's bad record must never stop the rest: not a value longer than a parser accepts,
not a record too big to keep, not a document nested deeper than a recursive parser survives.
Each limit is far above anything real in the collaboration's exports, so only a broken or
hostile file meets it, and what exceeds it is quarantined with a reason that names the limit.

- `MAX_FIELD_LENGTH`: characters in one value (a CSV field, a JSON string, an XML text).
  131,072 (128 Ki) is the csv module's own default, so a CSV reader never meets csv's limit
  before ours, and it is far longer than any real value in these exports.
- `MAX_RECORD_SIZE`: characters of one record's text (a CSV row, a JSON object, an XML
  element).  16 MiB is far above any real record in these exports, and bounds what one
  quarantined record keeps: a record over it is kept truncated to this many characters,
  saying so.
- `MAX_NESTING_DEPTH`: arrays, objects or elements inside each other, counted from the top of
  the document.  The exports nest about ten levels at most (a ClinicalTrials.gov page); 64 is
  far below the recursion limit (1,000) that the json module, XML serialisation and every
  recursive walk of a record would otherwise hit.
- `MAX_SOURCE_ID_LENGTH`: characters in a source id, what the database keeps of one.

A built-in reader applies them while it reads; the host checks what any plugin hands over
(`plugins/validation.py`): every value in `data`, and the source id.
"""

from collections.abc import Mapping

__all__ = [
    "MAX_FIELD_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_RECORD_SIZE",
    "MAX_SOURCE_ID_LENGTH",
    "field_too_long",
    "kept_text",
    "nested_too_deep",
    "record_too_big",
    "source_id_too_long",
    "undecodable",
]

MAX_FIELD_LENGTH = 131_072
MAX_RECORD_SIZE = 16_777_216
MAX_NESTING_DEPTH = 64
MAX_SOURCE_ID_LENGTH = 300


def field_too_long(length: int) -> str:
    """The reason, after the field's name: `Namn is 200,000 characters long, over ...`."""
    return (
        f"is {length:,} characters long, over the field-length limit of "
        f"{MAX_FIELD_LENGTH:,} characters"
    )


def source_id_too_long(length: int) -> str:
    return (
        f"is {length:,} characters long, over the source-id limit of "
        f"{MAX_SOURCE_ID_LENGTH:,} characters"
    )


def record_too_big(size: int) -> str:
    return (
        f"the record is {size:,} characters long, over the record-size limit of "
        f"{MAX_RECORD_SIZE:,} characters"
    )


def nested_too_deep(depth: int, where: str | None = None) -> str:
    """`is nested 100,005 levels deep (line 1, column 230), over the nesting-depth limit`."""
    at = f" ({where})" if where else ""
    return (
        f"is nested {depth:,} levels deep{at}, over the nesting-depth limit of {MAX_NESTING_DEPTH}"
    )


def undecodable(byte: int, where: str | None = None) -> str:
    """`holds byte 0xE5 (line 3, character 49), which is not UTF-8 text`."""
    at = f" ({where})" if where else ""
    return f"holds byte 0x{byte:02X}{at}, which is not UTF-8 text"


def kept_text(text: str, *, length: int | None = None) -> Mapping[str, str]:
    """A record's `raw` as the text it was read as: whole, or its first `MAX_RECORD_SIZE`
    characters and a note saying how many there were (`length`, where only the beginning of
    the record was read)."""
    length = len(text) if length is None else length
    if length <= MAX_RECORD_SIZE:
        return {"text": text}
    return {
        "text": text[:MAX_RECORD_SIZE],
        "truncated": f"kept the first {MAX_RECORD_SIZE:,} of its {length:,} characters",
    }
