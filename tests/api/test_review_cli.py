"""An admin at the terminal works through the review queue with `atmp-graph review`."""

from sqlalchemy import Engine

from tests.api.test_cli import _one_sentence_error, run


def test_review_queue_accept_split_and_aliases(demo_engine: Engine, database_url: str) -> None:
    queue = run("review", "list", url=database_url)
    assert queue.returncode == 0, queue.stderr
    lines = queue.stdout.splitlines()
    (stem_pd,) = [line for line in lines if "'STEM-PD'" in line]
    assert "pending  product" in stem_pd
    number = stem_pd.split()[0]

    accepted = run("review", "accept", number, url=database_url)
    assert accepted.returncode == 0, accepted.stderr
    merge = accepted.stdout.split(":")[0].removeprefix("merge ")
    assert "undo with `atmp-graph review split" in accepted.stdout
    assert _one_sentence_error(run("review", "accept", number, url=database_url)) == (
        f"Error: suggestion {number} was accepted already"
    )

    split = run("review", "split", merge, url=database_url)
    assert split.returncode == 0, split.stderr
    assert f"merge {merge}: split" in split.stdout
    decided = run("review", "list", "--all", url=database_url).stdout
    assert f"{number}  rejected  product" in decided

    (condition,) = [line for line in lines if "'Parkinson Disease'" in line]
    english = condition.split("~")[1].split()[0]
    added = run("review", "alias", "add", "condition", english, "Parkinsons", url=database_url)
    assert added.stdout.strip() == f"condition {english} goes by: Parkinson Disease; Parkinsons"
    assert (
        _one_sentence_error(
            run("review", "merge", "widget", "1", "2", "--reason", "x", url=database_url)
        )
        == "Error: 'widget' is not a kind of node"
    )
