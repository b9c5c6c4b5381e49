"""An admin makes a partner a key on the command line; the partner signs in with it, until it
expires or is revoked.  A wrong key is refused with 401 and a sentence, never taken as none."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.api.test_cli import _one_sentence_error, run

LUMC_ROR = "05xvt9f17"
WHO_AM_I = "{ ingestRuns(first: 1) { totalCount } }"


@pytest.fixture
def http(reference_engine: Engine, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def _create(database_url: str, *options: str) -> str:
    result = run("keys", "create", *options, url=database_url)
    assert result.returncode == 0, result.stderr
    (token,) = result.stdout.split()
    return token


def _status(http: TestClient, token: str) -> tuple[int, str]:
    response = http.post(
        "/graphql", json={"query": WHO_AM_I}, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 401:  # a refusal is a GraphQL-shaped error with the sentence
        return response.status_code, response.json()["errors"][0]["message"]
    return response.status_code, response.text


def test_a_key_is_made_shown_once_listed_and_revoked(
    reference_engine: Engine, database_url: str, http: TestClient
) -> None:
    token = _create(database_url, "--institution", LUMC_ROR, "--role", "curator", "--label", "ci")

    assert re.fullmatch(r"atmp_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", token)
    with Session(reference_engine) as session:
        (stored,) = session.scalars(sa.select(m.ApiKey)).all()
    assert token not in (stored.key_hash, stored.prefix)  # only its keyed hash is kept
    assert _status(http, token)[0] == 200
    listed = run("keys", "list", url=database_url).stdout
    assert f"{stored.prefix}  curator" in listed
    assert "Leiden University Medical Center" in listed

    assert run("keys", "revoke", stored.prefix, url=database_url).returncode == 0

    code, text = _status(http, token)
    assert (code, text) == (401, f"the key atmp_{stored.prefix}_… was revoked")
    assert "revoked" in run("keys", "list", url=database_url).stdout


def test_an_expired_key_no_longer_works(database_url: str, http: TestClient) -> None:
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    token = _create(
        database_url, "--institution", LUMC_ROR, "--role", "partner", "--expires", yesterday
    )

    code, text = _status(http, token)
    assert code == 401
    assert text.endswith(f"expired on {dt.date.today().isoformat()}")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic dXNlcjpwYXNz", "the Authorization header must read `Bearer <key>`"),
        ("Bearer ", "the Authorization header must read `Bearer <key>`"),
        ("Bearer not-a-key", "the key is malformed: keys read atmp_<8 characters>_<43 characters>"),
        (f"Bearer atmp_0123abcd_{'x' * 43}", "the key is not known"),
    ],
)
def test_a_wrong_key_is_refused_with_a_sentence(http: TestClient, header: str, reason: str) -> None:
    response = http.post("/graphql", json={"query": WHO_AM_I}, headers={"Authorization": header})

    assert (response.status_code, response.json()) == (401, {"errors": [{"message": reason}]})


def test_a_key_needs_an_institution_the_graph_knows(engine: Engine, database_url: str) -> None:
    result = run("keys", "create", "--institution", "nope", "--role", "admin", url=database_url)

    assert _one_sentence_error(result) == "Error: no institution has the ROR id or key 'nope'"


def test_a_key_follows_its_institution_into_a_merge(
    reference_engine: Engine, database_url: str, http: TestClient
) -> None:
    token = _create(database_url, "--institution", LUMC_ROR, "--role", "curator")
    with Session(reference_engine) as session, session.begin():
        lumc = session.scalars(
            sa.select(m.Institution).where(m.Institution.ror_id == LUMC_ROR)
        ).one()
        twin = m.Institution(name="LUMC (twin)", kind=lumc.kind)
        session.add(twin)
    with Session(reference_engine) as session:
        lumc_id = session.scalars(
            sa.select(m.Institution.id).where(m.Institution.ror_id == LUMC_ROR)
        ).one()
        twin_id = session.scalars(
            sa.select(m.Institution.id).where(m.Institution.name == "LUMC (twin)")
        ).one()

    result = run(
        "review",
        "merge",
        "institution",
        str(twin_id),
        str(lumc_id),
        "--reason",
        "same",
        url=database_url,
    )

    assert result.returncode == 0, result.stderr
    with Session(reference_engine) as session:
        assert session.scalars(sa.select(m.ApiKey.institution_id)).one() == twin_id
    assert _status(http, token)[0] == 200
