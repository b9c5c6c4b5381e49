"""The probes: /healthz (the process answers) and /readyz (it can serve: its dependencies do).

/healthz touches nothing: a liveness probe that failed with the database would have every
worker restarted while the database is down, which helps nobody.  /readyz checks the database
(a statement), its migrations (the database's alembic revision against the code's head) and
Redis when one is configured; a 503 names the failed checks in fixed words of ours, and the
driver's own words go to the log only.
"""

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from atmp_graph.api.request_id import request_id
from atmp_graph.api.shared_store import SharedStore
from atmp_graph.model.database import APPLIED_REVISIONS, MigrationRevisions, migration_revisions

__all__ = ["Probes"]

logger = logging.getLogger("atmp_graph.errors")

OK = "ok"
NOT_CHECKED = "not checked: the database is unreachable"


class Probes:
    def __init__(self, engine: AsyncEngine, store: SharedStore) -> None:
        self.engine, self.store = engine, store
        self._revisions: MigrationRevisions | None = None

    @property
    def revisions(self) -> MigrationRevisions:
        if self._revisions is None:
            self._revisions = migration_revisions()
        return self._revisions

    async def healthz(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        checks["database"], checks["migrations"] = await self._database(request)
        redis = await self.store.reachable()
        checks["redis"] = "not configured" if redis is None else OK if redis else "unreachable"
        failed = [name for name, verdict in checks.items() if verdict not in (OK, "not configured")]
        body: dict[str, Any] = {"status": "error" if failed else "ok"}
        if failed:
            body["failed"] = failed
        body["checks"] = checks
        return JSONResponse(body, status_code=503 if failed else 200)

    async def _database(self, request: Request) -> tuple[str, str]:
        try:
            async with self.engine.connect() as connection:
                try:
                    applied = set((await connection.execute(APPLIED_REVISIONS)).scalars())
                except Exception:
                    # The connection works (the pre-ping, or SQLite's open, said so): the
                    # table is what is missing.
                    logger.info("request %s: no alembic_version table", request_id(request.scope))
                    return OK, "missing: run `atmp-graph db upgrade`"
        except Exception:
            logger.exception(
                "request %s: readiness: the database does not answer", request_id(request.scope)
            )
            return "unreachable", NOT_CHECKED
        return OK, self._verdict(applied)

    def _verdict(self, applied: set[str]) -> str:
        revisions = self.revisions
        if applied == revisions.heads:
            return OK
        if applied <= revisions.known:
            return "behind: run `atmp-graph db upgrade`"
        return "ahead: a newer release migrated the database"
