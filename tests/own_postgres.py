"""A PostgreSQL server of a test's own, which it may stop, freeze and restart.

The shared server at 5432 serves every other test and must never be touched; the tests' own
server lives in a temporary folder on a free port.  The peer benchmark runs one too, so the
cluster itself is `benchmarks/own_postgres.py` (tests may import benchmarks, not the other way).
"""

from benchmarks.own_postgres import OwnPostgres, own_postgres

__all__ = ["OwnPostgres", "own_postgres"]
