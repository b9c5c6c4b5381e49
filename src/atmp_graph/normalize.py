"""Normalising names and registry identifiers, shared by validation and identity lookups."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold_name(name: str) -> str:
    """Compare names without case, diacritics or punctuation: "Region Skane" is "Region Skåne"."""
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", without_marks.casefold()).strip()


NCT_ID = re.compile(r"^NCT\d{8}$")
EUDRACT_NUMBER = re.compile(r"^\d{4}-\d{6}-\d{2}$")
EU_CT_NUMBER = re.compile(r"^\d{4}-5\d{5}-\d{2}-\d{2}$")
ROR_ID = re.compile(r"^0[a-hj-km-np-tv-z0-9]{6}\d{2}$")
ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


def compact_identifier(value: str) -> str:
    """Registry ids arrive with stray spaces and lower case; the shape check comes after this."""
    return value.strip().upper().replace(" ", "")


def strip_ror_prefix(value: str) -> str:
    return value.strip().removeprefix("https://ror.org/").lower()


# The WHO trial registry writes EudraCT numbers as EUCTR<number>-<country>.
WHO_EUDRACT = re.compile(r"^EUCTR(?P<number>\d{4}-\d{6}-\d{2})(?:-[A-Z]{2})?$")


def canonical_eudract(value: str) -> str:
    """`EUCTR2019-002343-14-NL` is EudraCT number `2019-002343-14`."""
    compact = compact_identifier(value)
    who = WHO_EUDRACT.match(compact)
    return who["number"] if who else compact
