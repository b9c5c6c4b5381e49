"""One bad row never stops a file.

A row the reader cannot read (bytes that are not UTF-8, JSON that does not parse) or one over a
limit (plugins/limits.py: field length, record size, nesting depth) is quarantined with its
reason, kept whole, and the rest of its file (and the other files of the export) goes in:
read = stored + quarantined, always.  Every export here is a real file the test writes.
"""

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import atmp_graph
import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.feeds import FeedAdapter, NoConfig
from atmp_graph.plugins.report import IngestReport
from atmp_nordvik.plugin import NordvikFeed
from tests.conftest import assert_quarantined

# The limits, as documented (README "What an ingest reports"); spelt out here so that a
# change to them is a change to these stories too.
FIELD_LENGTH = 131_072
RECORD_SIZE = 16_777_216
NESTING_DEPTH = 64

PRODUCTS_HEADER = (
    "Produkt-ID;Namn;ATMP-klass;Modalitet;Utvecklingsfas;Indikation;Tillverkningsställe"
)


def _product(code: str, name: str = "Produkt", site: str = "") -> str:
    return f"{code};{name};GTMP;Genterapi;Fas I;Lymfom;{site}"


def _write_products(directory: Path, middle: bytes) -> Path:
    """products.csv: LU-ATMP-A on line 2, then `middle`, then LU-ATMP-C."""
    directory.mkdir(exist_ok=True)
    lines = [
        ("\ufeff" + PRODUCTS_HEADER).encode(),
        _product("LU-ATMP-A").encode(),
        middle,
        _product("LU-ATMP-C").encode(),
    ]
    (directory / "products.csv").write_bytes(b"\n".join(lines) + b"\n")
    return directory


def _products(engine: Engine) -> list[str | None]:
    with Session(engine) as session:
        return list(session.scalars(select(m.Product.code).order_by(m.Product.code)))


def _raw(engine: Engine, report: IngestReport) -> list[Any]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(m.QuarantinedRecord.raw)
                .where(m.QuarantinedRecord.run_id == report.run_id)
                .order_by(m.QuarantinedRecord.id)
            )
        )


def _counts(report: IngestReport) -> tuple[int, int, int]:
    assert report.read == report.stored + report.quarantined
    return report.read, report.created, report.quarantined


def _write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _study(nct_id: str, title: str = "A study", **protocol: Any) -> dict[str, Any]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": title},
            **protocol,
        }
    }


def _nested(depth: int) -> str:
    """A JSON value `depth` arrays deep: [[[...]]]."""
    return "[" * depth + "]" * depth


# --- the limits are the contract's ----------------------------------------------------------


def test_the_limits_are_public_and_documented() -> None:
    assert (
        atmp_graph.MAX_FIELD_LENGTH,
        atmp_graph.MAX_RECORD_SIZE,
        atmp_graph.MAX_NESTING_DEPTH,
    ) == (FIELD_LENGTH, RECORD_SIZE, NESTING_DEPTH)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    tutorial = (Path(__file__).parents[2] / "examples/partner_plugin/README.md").read_text(
        encoding="utf-8"
    )
    assert "## Limits" in tutorial
    for text in (readme, tutorial):
        for number in ("131,072", "16,777,216", "64"):
            assert number in text


# --- CSV: Lund/Skåne ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("middle", "row", "source_id", "field", "length"),
    [
        (_product("LU-ATMP-B", name="N" * 200_000), 3, "LU-ATMP-B", "Namn", 200_000),
        (_product("B" * 150_000), 3, None, "Produkt-ID", 150_000),
        # A quoted field may span lines; the row is numbered by its last line, as csv does.
        (_product("LU-ATMP-B", name='"' + "rad\n" * 50_000 + '"'), 50_003, "LU-ATMP-B", "Namn",
         200_000),
    ],
    ids=["name", "source-id", "quoted-over-lines"],
)  # fmt: skip
def test_a_csv_field_over_the_field_length_limit_quarantines_its_row_alone(
    reference_engine: Engine,
    tmp_path: Path,
    *,
    middle: str,
    row: int,
    source_id: str | None,
    field: str,
    length: int,
) -> None:
    """Today's csv module stops the whole file at its own limit (131,072 characters)."""
    export = _write_products(tmp_path / "export", middle.encode())

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert _counts(report) == (3, 2, 1)
    who = f" ({source_id})" if source_id else ""
    assert_quarantined(
        reference_engine,
        report,
        [
            (
                "products.csv", row, source_id, field,
                f"lund_skane: products.csv row {row}{who}: {field} is {length:,} characters long, "
                f"over the field-length limit of 131,072 characters",
            )
        ],
    )  # fmt: skip
    # The row is kept whole, as the text it was.
    assert _raw(reference_engine, report) == [{"text": middle}]
    assert _products(reference_engine) == ["LU-ATMP-A", "LU-ATMP-C"]


@pytest.mark.parametrize(
    ("middle", "source_id", "field", "character"),
    [
        # Skåne in Latin-1: å is the single byte 0xE5.
        (
            b"LU-ATMP-B;Produkt;GTMP;Genterapi;Fas I;Lymfom;Sk\xe5nes universitetssjukhus",
            "LU-ATMP-B",
            "Tillverkningsställe",
            49,
        ),
        (b"LU-ATMP-\xff;Produkt;GTMP;Genterapi;Fas I;Lymfom;", None, "Produkt-ID", 9),
    ],
    ids=["in-a-value", "in-the-source-id"],
)
def test_an_undecodable_csv_line_quarantines_its_row_alone(
    reference_engine: Engine,
    tmp_path: Path,
    *,
    middle: bytes,
    source_id: str | None,
    field: str,
    character: int,
) -> None:
    export = _write_products(tmp_path / "export", middle)

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert _counts(report) == (3, 2, 1)
    byte = f"0x{middle[character - 1]:02X}"
    who = f" ({source_id})" if source_id else ""
    assert_quarantined(
        reference_engine,
        report,
        [
            (
                "products.csv", 3, source_id, field,
                f"lund_skane: products.csv row 3{who}: {field} holds byte {byte} (line 3, "
                f"character {character}), which is not UTF-8 text",
            )
        ],
    )  # fmt: skip
    # Kept whole: the undecodable byte as a \x escape.
    assert _raw(reference_engine, report) == [{"text": middle.decode("utf-8", "backslashreplace")}]
    assert _products(reference_engine) == ["LU-ATMP-A", "LU-ATMP-C"]


def test_a_csv_row_over_the_record_size_limit_is_kept_truncated(
    reference_engine: Engine, tmp_path: Path
) -> None:
    middle = _product("LU-ATMP-B", name="N" * RECORD_SIZE)
    export = _write_products(tmp_path / "export", middle.encode())

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert _counts(report) == (3, 2, 1)
    size = len(middle)
    assert_quarantined(
        reference_engine,
        report,
        [
            (
                "products.csv", 3, "LU-ATMP-B", None,
                f"lund_skane: products.csv row 3 (LU-ATMP-B): the record is {size:,} characters "
                "long, over the record-size limit of 16,777,216 characters",
            )
        ],
    )  # fmt: skip
    assert _raw(reference_engine, report) == [
        {
            "text": middle[:RECORD_SIZE],
            "truncated": f"kept the first 16,777,216 of its {size:,} characters",
        }
    ]
    assert _products(reference_engine) == ["LU-ATMP-A", "LU-ATMP-C"]


def test_a_header_without_a_column_quarantines_each_row_with_the_reason(
    reference_engine: Engine, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    header = PRODUCTS_HEADER.replace(";Namn;", ";Name;")
    (export / "products.csv").write_text(
        f"{header}\n{_product('LU-ATMP-A')}\n{_product('LU-ATMP-B')}\n", encoding="utf-8-sig"
    )

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert _counts(report) == (2, 0, 2)
    assert [entry.message() for entry in report.quarantine] == [
        f"lund_skane: products.csv row {row} ({code}): the header has no column Namn"
        for row, code in ((2, "LU-ATMP-A"), (3, "LU-ATMP-B"))
    ]


@pytest.mark.parametrize(
    "body",
    [
        'LU-ATMP-B;"Namn; med semikolon";GTMP;x;Fas I;y;z\n',
        'LU-ATMP-B;"Namn med ""citat""";GTMP;x;Fas I;y;z\n',
        'LU-ATMP-B;Namn 5" skärm;GTMP;x;Fas I;y;"z"efter\n',
        'LU-ATMP-B;"två\r\nrader";GTMP;x;Fas I;y;z\r\nLU-ATMP-D;N;GTMP;x;Fas I;y;z\r\n',
        'LU-ATMP-B;"ensam\rvagnretur";GTMP;x;Fas I;y;z\rLU-ATMP-D;N;GTMP;x;Fas I;y;z\r',
        'LU-ATMP-B;"aldrig stängt;GTMP;x\nLU-ATMP-D;N;GTMP;x;Fas I;y;z\n',
    ],
    ids=["delimiter", "doubled-quotes", "quote-inside", "crlf", "lone-cr", "never-closed"],
)
def test_each_record_reads_as_the_csv_module_reads_it(tmp_path: Path, body: str) -> None:
    """Records are cut out of the file before csv takes them apart: the cells and the row
    numbers are still exactly what csv.reader gives for the whole file."""
    export = tmp_path / "export"
    export.mkdir()
    path = export / "products.csv"
    path.write_bytes(("\ufeff" + PRODUCTS_HEADER + "\n" + body).encode())
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file, delimiter=";")
        header = next(reader)
        expected = [(reader.line_num, dict(zip(header, cells, strict=False))) for cells in reader]

    rows = list(LundSkaneFeed().read(str(export), state={}, config=NoConfig()))

    assert [(row.row, dict(row.raw)) for row in rows] == expected


# --- JSON: LUMC, the reference data, ClinicalTrials.gov ------------------------------------


def _lumc_products(directory: Path, middle: str) -> Path:
    """export.json with products LUMC-X-1, `middle` (JSON text), LUMC-X-3."""
    directory.mkdir(exist_ok=True)
    first = json.dumps({"code": "LUMC-X-1", "name": "Eerste", "atmpType": "gene therapy"})
    last = json.dumps({"code": "LUMC-X-3", "name": "Derde", "atmpType": "gene therapy"})
    text = f'{{"source": "LUMC research administration", "products": [{first}, {middle}, {last}]}}'
    (directory / "export.json").write_text(text, encoding="utf-8")
    return directory


def _ctgov_page(directory: Path, middle: str) -> Path:
    """page.json with studies NCT00000001, `middle` (JSON text), NCT00000003."""
    directory.mkdir(exist_ok=True)
    first, last = json.dumps(_study("NCT00000001")), json.dumps(_study("NCT00000003"))
    text = f'{{"studies": [{first}, {middle}, {last}]}}'
    (directory / "page.json").write_text(text, encoding="utf-8")
    return directory / "page.json"


def _collaboration(directory: Path, middle: str) -> Path:
    """collaboration.json with institutions inst-1, `middle` (JSON text), inst-3."""
    directory.mkdir(exist_ok=True)
    first = json.dumps({"key": "inst-1", "name": "Institution One", "kind": "university"})
    last = json.dumps({"key": "inst-3", "name": "Institution Three", "kind": "university"})
    text = f'{{"institutions": [{first}, {middle}, {last}]}}'
    (directory / "collaboration.json").write_text(text, encoding="utf-8")
    return directory


def _stored(engine: Engine, feed: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(m.SourceRecord.source_id)
                .where(m.SourceRecord.feed == feed)
                .order_by(m.SourceRecord.source_id)
            )
        )


Export = Callable[[Path, str], Path]
JSON_FEEDS: dict[str, tuple[FeedAdapter, Export, list[str]]] = {
    # feed, how to write an export around one record, the records stored around it
    "lumc": (LumcFeed(), _lumc_products, ["LUMC-X-1", "LUMC-X-3"]),
    "ctgov": (CtGovFeed(), _ctgov_page, ["NCT00000001", "NCT00000003"]),
    "collaboration": (CollaborationFeed(), _collaboration, ["inst-1", "inst-3"]),
}


@pytest.mark.parametrize(
    ("feed_name", "middle", "where", "message"),
    [
        (
            "lumc",
            json.dumps({"code": "LUMC-X-2", "name": "T" * 200_000}),
            "export.json row 2 (LUMC-X-2)",
            "name is 200,000 characters long, over the field-length limit of 131,072 characters",
        ),
        (
            "ctgov",
            json.dumps(
                _study("NCT00000002", descriptionModule={"detailedDescription": "D" * 140_000})
            ),
            "page.json (NCT00000002)",
            "protocolSection.descriptionModule.detailedDescription is 140,000 characters long, "
            "over the field-length limit of 131,072 characters",
        ),
        (
            "collaboration",
            json.dumps({"key": "inst-2", "name": "I", "aliases": ["A" * 131_073]}),
            "collaboration.json (inst-2)",
            "aliases[0] is 131,073 characters long, over the field-length limit of 131,072 "
            "characters",
        ),
    ],
    ids=["lumc", "ctgov", "collaboration"],
)
def test_a_json_value_over_the_field_length_limit_quarantines_its_record_alone(
    engine: Engine, tmp_path: Path, *, feed_name: str, middle: str, where: str, message: str
) -> None:
    feed, write, stored = JSON_FEEDS[feed_name]
    if feed_name != "collaboration":  # its complete read would retire the reference data
        ingest(engine, CollaborationFeed(), CollaborationFeed().sample())

    report = ingest(engine, feed, write(tmp_path / "export", middle))

    assert [entry.message() for entry in report.quarantine] == [f"{feed_name}: {where}: {message}"]
    assert _raw(engine, report) == [json.loads(middle)]
    assert set(stored) <= set(_stored(engine, feed_name))


@pytest.mark.parametrize(
    ("feed_name", "middle", "where", "message"),
    [
        (
            "lumc",
            '{"code": "LUMC-X-2", "name": "Leiden", "extra": ' + _nested(100) + "}",
            "export.json row 2 (LUMC-X-2)",
            "extra[0][0][0][0][0]… is nested 103 levels deep (line 1, column {column}), "
            "over the nesting-depth limit of 64",
        ),
        (
            "ctgov",
            json.dumps(_study("NCT00000002"))[:-2]
            + ', "conditionsModule": {"keywords": '
            + _nested(100_000)
            + "}}}",
            "page.json (NCT00000002)",
            "protocolSection.conditionsModule.keywords[0][0][0]… is nested 100,005 levels deep "
            "(line 1, column {column}), over the nesting-depth limit of 64",
        ),
        (
            "collaboration",
            '{"key": "inst-2", "name": "I", "aliases": ' + _nested(1_000) + "}",
            "collaboration.json (inst-2)",
            "aliases[0][0][0][0][0]… is nested 1,003 levels deep (line 1, column {column}), "
            "over the nesting-depth limit of 64",
        ),
    ],
    ids=["lumc-100", "ctgov-100000", "collaboration-1000"],
)
def test_a_json_record_nested_deeper_than_the_limit_is_quarantined_alone(
    engine: Engine, tmp_path: Path, *, feed_name: str, middle: str, where: str, message: str
) -> None:
    feed, write, stored = JSON_FEEDS[feed_name]
    if feed_name != "collaboration":  # its complete read would retire the reference data
        ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    source = write(tmp_path / "export", middle)
    text = (source if source.is_file() else next(source.glob("*.json"))).read_text()
    # Where the 65th level opens: the first bracket past the limit, counted from the top.
    column = 1 + _opening_past_the_limit(text)

    report = ingest(engine, feed, source)

    assert _counts(report) == (3, 2, 1)
    assert [entry.message() for entry in report.quarantine] == [
        f"{feed_name}: {where}: {message.format(column=column)}"
    ]
    # Kept whole, as text: too deep to keep as JSON.
    assert _raw(engine, report) == [{"text": middle}]
    assert set(stored) <= set(_stored(engine, feed_name))


def _opening_past_the_limit(text: str) -> int:
    depth = 0
    for position, character in enumerate(text):
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(character, 0)
        if depth > NESTING_DEPTH:
            return position
    raise AssertionError("not deep enough")


@pytest.mark.parametrize(
    ("feed_name", "file", "content", "message"),
    [
        (
            "lumc",
            "export.json",
            "[" * 100_000,
            "lumc: export.json: is not a JSON document: Expecting ',' delimiter: line 1 column "
            "100001 (char 100000); it is nested 100,000 levels deep, over the nesting-depth limit "
            "of 64",
        ),
        (
            "collaboration",
            "collaboration.json",
            _nested(100_000),
            "collaboration: collaboration.json: is not a JSON object; it is nested 100,000 levels "
            "deep, over the nesting-depth limit of 64",
        ),
        (
            "ctgov",
            "NCT00000002.json",
            "[" * 100_000,
            "ctgov: NCT00000002.json: is not a JSON document: Expecting ',' delimiter: line 1 "
            "column 100001 (char 100000); it is nested 100,000 levels deep, over the "
            "nesting-depth limit of 64",
        ),
        (
            "ctgov",
            "NCT00000002.json",
            _nested(100_000),
            "ctgov: NCT00000002.json: is neither a study nor a page of studies "
            '({"studies": [...]}); it is nested 100,000 levels deep, over the nesting-depth '
            "limit of 64",
        ),
    ],
    ids=["lumc-unclosed", "collaboration-closed", "ctgov-unclosed", "ctgov-closed"],
)
def test_a_json_document_nested_too_deep_is_one_sentence(
    engine: Engine, tmp_path: Path, *, feed_name: str, file: str, content: str, message: str
) -> None:
    """Today the json module raises RecursionError, and the run stops."""
    feed = JSON_FEEDS[feed_name][0]
    export = tmp_path / "export"
    export.mkdir()
    (export / file).write_text(content, encoding="utf-8")
    if feed_name == "ctgov":  # another file of the same export still goes in
        _write_json(export / "NCT00000001.json", _study("NCT00000001"))

    report = ingest(engine, feed, export)

    assert [entry.message() for entry in report.quarantine] == [message]
    assert _counts(report) == ((2, 1, 1) if feed_name == "ctgov" else (1, 0, 1))
    assert _raw(engine, report) == [{"text": content}]


@pytest.mark.parametrize(
    ("feed_name", "file", "content", "message"),
    [
        (
            "lumc",
            "export.json",
            b'{"products": [\xff]}',
            "lumc: export.json: is not a JSON document: Expecting value: line 1 column 15 (char "
            "14)",
        ),
        (
            "collaboration",
            "collaboration.json",
            b'{"institutions": [}',
            "collaboration: collaboration.json: is not a JSON document: Expecting value: line 1 "
            "column 19 (char 18)",
        ),
        (
            "ctgov",
            "NCT00000002.json",
            b'{\n  "protocolSection": \xe5\n}',
            "ctgov: NCT00000002.json: is not a JSON document: Expecting value: line 2 column 22 "
            "(char 23)",
        ),
    ],
    ids=["lumc", "collaboration", "ctgov"],
)
def test_a_json_file_that_does_not_parse_is_one_sentence(
    engine: Engine, tmp_path: Path, *, feed_name: str, file: str, content: bytes, message: str
) -> None:
    feed = JSON_FEEDS[feed_name][0]
    export = tmp_path / "export"
    export.mkdir()
    (export / file).write_bytes(content)
    if feed_name == "ctgov":  # the other files of the export still go in
        _write_json(export / "NCT00000001.json", _study("NCT00000001"))

    report = ingest(engine, feed, export)

    assert [entry.message() for entry in report.quarantine] == [message]
    assert _counts(report) == ((2, 1, 1) if feed_name == "ctgov" else (1, 0, 1))
    assert _raw(engine, report) == [{"text": content.decode("utf-8", "backslashreplace")}]


@pytest.mark.parametrize(
    ("feed_name", "middle", "where", "field"),
    [
        (
            "lumc",
            b'{"code": "LUMC-X-2", "name": "Sk\xe5ne"}',
            "export.json row 2 (LUMC-X-2)",
            "name",
        ),
        (
            "ctgov",
            b'{"protocolSection": {"identificationModule": {"nctId": "NCT00000002", '
            b'"briefTitle": "Sk\xe5ne"}}}',
            "page.json (NCT00000002)",
            "protocolSection.identificationModule.briefTitle",
        ),
        (
            "collaboration",
            b'{"key": "inst-2", "name": "Sk\xe5ne"}',
            "collaboration.json (inst-2)",
            "name",
        ),
    ],
    ids=["lumc", "ctgov", "collaboration"],
)
def test_an_undecodable_json_value_quarantines_its_record_alone(
    engine: Engine, tmp_path: Path, *, feed_name: str, middle: bytes, where: str, field: str
) -> None:
    feed, write, stored = JSON_FEEDS[feed_name]
    if feed_name != "collaboration":  # its complete read would retire the reference data
        ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    source = write(tmp_path / "export", "MIDDLE")
    path = source if source.is_file() else next(source.glob("*.json"))
    path.write_bytes(path.read_bytes().replace(b"MIDDLE", middle))

    report = ingest(engine, feed, source)

    assert [entry.message() for entry in report.quarantine] == [
        f"{feed_name}: {where}: {field} holds byte 0xE5, which is not UTF-8 text"
    ]
    assert _raw(engine, report) == [
        {"text": json.dumps(json.loads(middle.decode("latin-1")), ensure_ascii=False)
         .replace("å", "\\xe5")}
    ]  # fmt: skip
    assert set(stored) <= set(_stored(engine, feed_name))


def test_a_json_record_over_the_record_size_limit_is_kept_truncated(
    engine: Engine, tmp_path: Path
) -> None:
    keywords = [f"keyword {n:09d}" for n in range(RECORD_SIZE // 18)]
    big = _study("NCT00000002", conditionsModule={"keywords": keywords})
    middle = json.dumps(big, ensure_ascii=False)

    report = ingest(engine, CtGovFeed(), _ctgov_page(tmp_path / "export", middle))

    assert _counts(report) == (3, 2, 1)
    assert [entry.message() for entry in report.quarantine] == [
        f"ctgov: page.json (NCT00000002): the record is {len(middle):,} characters long, over "
        "the record-size limit of 16,777,216 characters"
    ]
    assert _raw(engine, report) == [
        {
            "text": middle[:RECORD_SIZE],
            "truncated": f"kept the first 16,777,216 of its {len(middle):,} characters",
        }
    ]
    assert _stored(engine, "ctgov") == [
        "NCT00000001",
        "NCT00000003",
    ]


# --- XML: the example partner plugin --------------------------------------------------------

NORDVIK = '<export institution="Nordvik University Hospital">\n{}\n</export>\n'


def _nordvik_products(directory: Path, middle: bytes) -> Path:
    directory.mkdir(exist_ok=True)
    first = b'<product code="NV-P-1" class="GTMP"><name>One</name></product>'
    last = b'<product code="NV-P-3" class="GTMP"><name>Three</name></product>'
    body = b"\n".join([first, middle, last])
    path = directory / "export.xml"
    path.write_bytes(NORDVIK.encode().replace(b"{}", body))
    return path


def test_an_xml_record_nested_deeper_than_the_limit_is_quarantined_alone(
    reference_engine: Engine, tmp_path: Path
) -> None:
    middle = '<product code="NV-P-2" class="GTMP"><name>Two</name>{}</product>'.format(
        "<a>" * 100_000 + "</a>" * 100_000
    )

    report = ingest(reference_engine, NordvikFeed(), _nordvik_products(tmp_path, middle.encode()))

    assert _counts(report) == (3, 2, 1)
    assert [entry.message() for entry in report.quarantine] == [
        "nordvik: export.xml row 2 (NV-P-2): the record is nested 100,002 levels deep, over "
        "the nesting-depth limit of 64"
    ]
    assert _raw(reference_engine, report) == [{"xml": middle.replace("<a></a>", "<a />")}]
    assert _products(reference_engine) == ["NV-P-1", "NV-P-3"]


def test_an_xml_value_over_the_field_length_limit_quarantines_its_record_alone(
    reference_engine: Engine, tmp_path: Path
) -> None:
    """The host checks the length of every value a plugin hands it."""
    middle = '<product code="NV-P-2" class="GTMP"><name>{}</name></product>'.format("N" * 200_000)

    report = ingest(reference_engine, NordvikFeed(), _nordvik_products(tmp_path, middle.encode()))

    assert _counts(report) == (3, 2, 1)
    assert [entry.message() for entry in report.quarantine] == [
        "nordvik: export.xml row 2 (NV-P-2): name is 200,000 characters long, over the "
        "field-length limit of 131,072 characters"
    ]
    assert _products(reference_engine) == ["NV-P-1", "NV-P-3"]


def test_xml_that_is_not_well_formed_is_one_sentence_after_the_records_before_it(
    reference_engine: Engine, tmp_path: Path
) -> None:
    """XML cannot be read past a byte that breaks it: what came before goes in, and the rest
    is one quarantined record that says where."""
    middle = b'<product code="NV-P-2" class="GTMP"><name>Sk\xe5ne</name></product>'

    report = ingest(reference_engine, NordvikFeed(), _nordvik_products(tmp_path, middle))

    assert _counts(report) == (2, 1, 1)
    assert [entry.message() for entry in report.quarantine] == [
        "nordvik: export.xml row 2: is not well-formed XML: not well-formed (invalid token): "
        "line 3, column 44; nothing after it can be read"
    ]
    assert _raw(reference_engine, report) == [
        {"text": middle.decode("utf-8", "backslashreplace") + "\n"
         + '<product code="NV-P-3" class="GTMP"><name>Three</name></product>\n</export>\n'}
    ]  # fmt: skip
    assert _products(reference_engine) == ["NV-P-1"]


# --- what the database can hold -------------------------------------------------------------


def test_a_source_id_longer_than_the_database_keeps_is_quarantined(
    reference_engine: Engine, tmp_path: Path
) -> None:
    export = _write_products(tmp_path / "export", _product("B" * 301).encode())

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert _counts(report) == (3, 2, 1)
    assert [entry.message() for entry in report.quarantine] == [
        "lund_skane: products.csv row 3: Produkt-ID is 301 characters long, over the "
        "source-id limit of 300 characters"
    ]
    assert _products(reference_engine) == ["LU-ATMP-A", "LU-ATMP-C"]
