"""The schema is a contract: the committed schema.graphql is what the code builds, and a change
that can break a client fails CI until CHANGELOG.md declares it."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import (
    DEFAULT_DEPRECATION_REASON,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    build_schema,
    print_schema,
)

from atmp_graph.schema.contract import check, declared_coordinates, deprecations_without_reason
from atmp_graph.schema.schema import schema

ROOT = Path(__file__).parents[2]
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
BUILT = schema.as_str() + "\n"
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")

Edit = Callable[[GraphQLSchema], object]


def _fields(built: GraphQLSchema, name: str) -> dict[str, GraphQLField]:
    named = built.type_map[name]
    assert isinstance(named, GraphQLObjectType)
    return named.fields


def _input_fields(built: GraphQLSchema, name: str) -> dict[str, GraphQLInputField]:
    named = built.type_map[name]
    assert isinstance(named, GraphQLInputObjectType)
    return named.fields


def _values(built: GraphQLSchema, name: str) -> dict[str, GraphQLEnumValue]:
    named = built.type_map[name]
    assert isinstance(named, GraphQLEnumType)
    return named.values


def _without_retirable(built: GraphQLSchema) -> None:
    trial = built.type_map["ClinicalTrial"]
    assert isinstance(trial, GraphQLObjectType)
    trial.interfaces = tuple(i for i in trial.interfaces if i.name != "Retirable")


def edited(edit: Edit) -> str:
    """The real built schema's SDL with one change made to it."""
    changed = build_schema(BUILT)
    edit(changed)
    return print_schema(changed) + "\n"


def with_unreleased(*lines: str) -> str:
    return CHANGELOG.replace("## Unreleased\n", "## Unreleased\n\n" + "\n".join(lines) + "\n", 1)


def check_schema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "check-schema", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


BREAKING: list[object] = [
    pytest.param(
        lambda s: _fields(s, "ClinicalTrial").pop("acronym"),
        "ClinicalTrial.acronym", "FIELD_REMOVED", id="field removed",
    ),
    pytest.param(
        lambda s: _fields(s, "ClinicalTrial").update(enrollment=GraphQLField(GraphQLString)),
        "ClinicalTrial.enrollment", "FIELD_CHANGED_KIND", id="field type changed",
    ),
    pytest.param(
        lambda s: _values(s, "TrialPhase").pop("PHASE4"),
        "TrialPhase.PHASE4", "VALUE_REMOVED_FROM_ENUM", id="enum value removed",
    ),
    pytest.param(
        lambda s: _fields(s, "Query")["trials"].args.pop("first"),
        "Query.trials(first:)", "ARG_REMOVED", id="argument removed",
    ),
    pytest.param(
        lambda s: _fields(s, "Query")["trials"].args.update(
            since=GraphQLArgument(GraphQLNonNull(GraphQLString))
        ),
        "Query.trials(since:)", "REQUIRED_ARG_ADDED", id="required argument added",
    ),
    pytest.param(
        lambda s: _input_fields(s, "TrialFilter").update(
            since=GraphQLInputField(GraphQLNonNull(GraphQLString))
        ),
        "TrialFilter.since", "REQUIRED_INPUT_FIELD_ADDED", id="required input field added",
    ),
    pytest.param(
        _without_retirable, "ClinicalTrial", "IMPLEMENTED_INTERFACE_REMOVED",
        id="interface removed",
    ),
]  # fmt: skip


def test_the_built_schema_keeps_the_committed_contract() -> None:
    result = check_schema()

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith(
        "schema.graphql is current and keeps the contract of schema/baseline.graphql: "
    )


@pytest.mark.parametrize(("edit", "coordinate", "kind"), BREAKING)
def test_an_undeclared_breaking_change_fails_naming_its_coordinate(
    edit: Edit, coordinate: str, kind: str
) -> None:
    report = check(baseline=BUILT, built=edited(edit), changelog=CHANGELOG)

    assert [(change.coordinate, change.kind) for change in report.undeclared] == [
        (coordinate, kind)
    ]
    assert report.lines()[0].startswith(f"breaking, not declared: `{coordinate}` ({kind}): ")


@pytest.mark.parametrize(("edit", "coordinate", "kind"), BREAKING)
def test_declaring_a_breaking_change_in_the_changelog_lets_it_pass(
    edit: Edit, coordinate: str, kind: str
) -> None:
    changelog = with_unreleased(f"- Breaking: `{coordinate}`: clients ask for something else.")

    report = check(baseline=BUILT, built=edited(edit), changelog=changelog)

    assert report.undeclared == []
    assert [(change.coordinate, change.kind) for change in report.declared] == [(coordinate, kind)]


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        pytest.param(
            lambda s: _values(s, "TrialPhase").update(PHASE5=GraphQLEnumValue("PHASE5")),
            "dangerous: `TrialPhase.PHASE5` (VALUE_ADDED_TO_ENUM): "
            "Enum value TrialPhase.PHASE5 was added.",
            id="enum value added",
        ),
        pytest.param(
            lambda s: _fields(s, "Query")["trials"].args.update(
                since=GraphQLArgument(GraphQLString)
            ),
            "dangerous: `Query.trials(since:)` (OPTIONAL_ARG_ADDED): "
            "An optional argument Query.trials(since:) was added.",
            id="optional argument added",
        ),
    ],
)
def test_a_dangerous_change_is_reported_without_failing(edit: Edit, line: str) -> None:
    report = check(baseline=BUILT, built=edited(edit), changelog=CHANGELOG)

    assert (report.undeclared, report.lines()) == ([], [line])


@pytest.mark.parametrize(
    ("declares", "returncode"), [(False, 1), (True, 0)], ids=["undeclared", "declared"]
)
def test_check_schema_fails_ci_until_the_change_is_declared(
    tmp_path: Path, declares: bool, returncode: int
) -> None:
    # The command checks the schema the code builds, so here the baseline has a field more.
    baseline = tmp_path / "baseline.graphql"
    baseline.write_text(
        BUILT.replace("  acronym: String\n", "  acronym: String\n  shortTitle: String\n")
    )
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        with_unreleased("- **Breaking:** `ClinicalTrial.shortTitle`: ask for `acronym`.")
        if declares
        else CHANGELOG
    )

    result = check_schema("--baseline", str(baseline), "--changelog", str(changelog))

    assert result.returncode == returncode, result.stdout + result.stderr
    state = "declared" if declares else "not declared"
    assert result.stdout.splitlines()[0] == (
        f"breaking, {state}: `ClinicalTrial.shortTitle` (FIELD_REMOVED): "
        "Field ClinicalTrial.shortTitle was removed."
    )
    if not declares:
        assert result.stderr == (
            f"Error: 1 breaking change(s) from {baseline} not declared: name each under "
            f'"## Unreleased" in {changelog} in a line "- Breaking: `ClinicalTrial.shortTitle`: '
            'what clients do instead", or keep the old schema working beside the new\n'
        )


def test_check_schema_fails_when_schema_graphql_is_stale(tmp_path: Path) -> None:
    committed = tmp_path / "schema.graphql"
    committed.write_text(BUILT.replace("  acronym: String\n", ""))

    result = check_schema("--committed", str(committed))

    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {committed} is not the schema the code builds: run "
        f"`atmp-graph export-schema -o {committed}`\n"
    )


@pytest.mark.parametrize(
    ("changelog", "declared"),
    [
        ("## Unreleased\n\n- Breaking: `A.b`, `C.d(x:)` and `@e`: why.\n",
         {"A.b", "C.d(x:)", "@e"}),
        ("## Unreleased\n\n* **Breaking:** `Enum.VALUE`: why.\n", {"Enum.VALUE"}),
        # Only what changed since the baseline counts; a released version's lines do not.
        ("## Unreleased\n\n- New things.\n\n## 0.1.0\n\n- Breaking: `A.b`: why.\n", set()),
        # A breaking change told in prose names no coordinate: the line starts `Breaking:`.
        ("## Unreleased\n\n- Filters changed. **Breaking:** `A.b` is gone.\n", set()),
        ("# Changelog\n\n- Breaking: `A.b`: no Unreleased heading.\n", set()),
    ],
    ids=["list", "bold", "released", "prose", "no-unreleased"],
)  # fmt: skip
def test_the_changelog_declares_coordinates_in_breaking_lines(
    changelog: str, declared: set[str]
) -> None:
    assert declared_coordinates(changelog) == declared


def test_every_deprecation_in_the_built_schema_gives_a_reason() -> None:
    assert deprecations_without_reason(BUILT) == []


def _deprecate(coordinate: str, reason: str) -> Edit:
    def deprecate(built: GraphQLSchema) -> None:
        type_name, member = coordinate.split(".")
        if member.endswith(":)"):
            field, argument = member.removesuffix(":)").split("(")
            _fields(built, type_name)[field].args[argument].deprecation_reason = reason
        elif type_name == "TrialPhase":
            _values(built, type_name)[member].deprecation_reason = reason
        else:
            _fields(built, type_name)[member].deprecation_reason = reason

    return deprecate


@pytest.mark.parametrize(
    "coordinate", ["ClinicalTrial.acronym", "TrialPhase.PHASE4", "Query.trials(first:)"]
)
@pytest.mark.parametrize(
    ("reason", "flagged"),
    [(DEFAULT_DEPRECATION_REASON, True), ("", True), ("  ", True), ("Ask for `title`.", False)],
    ids=["bare @deprecated", "empty", "blank", "a reason"],
)
def test_a_deprecation_must_say_why(coordinate: str, reason: str, flagged: bool) -> None:
    sdl = edited(_deprecate(coordinate, reason))

    assert deprecations_without_reason(sdl) == ([coordinate] if flagged else [])
