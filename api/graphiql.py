"""GraphiQL without a CDN: our copy of Strawberry's page, and the assets it loads, from the package.

The page (graphiql.html) loads React, GraphiQL and the explorer plugin from
`graphiql/static/...`; static/graphiql/ holds those files, vendored from npm at pinned versions
by static/graphiql/update.sh.
"""

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
ASSETS = HERE / "static" / "graphiql"
# The page's asset URLs are relative to /graphql, so they resolve to this path.
ASSETS_ROUTE = "/graphiql/static"


@cache
def graphiql_page() -> str:
    """The GraphiQL page browsers get from GET /graphql."""
    return (HERE / "graphiql.html").read_text(encoding="utf-8")


def graphiql_assets() -> Mount:
    """The route that serves the page's scripts and stylesheets."""
    # A strict editable install links each file into a tree of its own under build/: follow
    # those links (abspath still keeps requests inside the folder).
    return Mount(
        ASSETS_ROUTE,
        app=StaticFiles(directory=ASSETS, follow_symlink=True),
        name="graphiql-assets",
    )
