"""The precedence rule is a file an operator can read and change; a broken one is named."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from atmp_graph.identity.precedence import DEFAULT_RULES, PrecedenceError, load_precedence
from atmp_graph.ingest import ingest
from atmp_graph.model import ClinicalTrial
from atmp_graph.plugins.manager import build_plugin_host

PARTNER_FIRST = """
[orders]
default = ["collaboration", "lund_skane", "lumc", "*", "ctgov"]
"""


@pytest.mark.parametrize(
    ("rules", "title"),
    [
        (None, "A Trial to Determine the Safety"),  # the bundled rule: the registry's title
        (PARTNER_FIRST, "STEM-PD: säkerhet och tolerabilitet"),
    ],
    ids=["registry-first", "partner-first"],
)
def test_the_rule_picks_which_feeds_title_a_trial_shows(
    engine: Engine, tmp_path: Path, rules: str | None, title: str
) -> None:
    path = None
    if rules is not None:
        path = tmp_path / "precedence.toml"
        path.write_text(rules, encoding="utf-8")
    precedence = load_precedence(path)
    host = build_plugin_host(load_entry_points=False)
    for name in ("ctgov", "lund_skane"):
        adapter = host.builtin_feeds()[name]
        ingest(engine, adapter, adapter.sample(), host=host, precedence=precedence)

    with Session(engine) as session:
        trial = session.query(ClinicalTrial).filter_by(nct_id="NCT05635409").one()
        assert trial.title.startswith(title)
        # Whatever the rule, a value only one feed gives is that feed's.
        assert (trial.local_id, trial.study_type) == ("CCTU0263", "INTERVENTIONAL")


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ('[orders]\nregistry = ["ctgov", "*"]\n', "[orders] needs a `default` order"),
        ('[orders]\ndefault = ["ctgov"]\n', "order 'default' must name \"*\" (all other feeds)"),
        (
            '[orders]\ndefault = ["*"]\n[fields]\n"clinical_trial.phase" = "registry"\n',
            "field 'clinical_trial.phase' uses order 'registry', which [orders] lacks",
        ),
        (
            '[orders]\ndefault = ["*"]\n[fields]\nphase = "default"\n',
            'must read "entity_type.field"',
        ),
        ("[orders\n", "Expected ']'"),
    ],
)
def test_a_broken_rule_file_is_named_with_what_is_wrong(
    tmp_path: Path, rules: str, problem: str
) -> None:
    path = tmp_path / "precedence.toml"
    path.write_text(rules, encoding="utf-8")

    with pytest.raises(PrecedenceError) as error:
        load_precedence(path)

    assert str(error.value).startswith(f"precedence file {path}: ")
    assert problem in str(error.value)


def test_the_bundled_rule_documents_itself() -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert "ATMP_PRECEDENCE" in text
    assert load_precedence().order_for("clinical_trial", "status") == "registry_first"
