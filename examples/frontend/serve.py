"""Serve this folder (the example page) on an origin of its own: http://127.0.0.1:8080 by default.

    python examples/frontend/serve.py --port 8080 --api http://127.0.0.1:8000

and start the API with that origin allowed: `ATMP_CORS_ORIGINS=http://127.0.0.1:8080
atmp-graph serve --demo`. Nothing is built and nothing is loaded from elsewhere: the page is
index.html and client.js, as they are.
"""

import argparse
import functools
import http.server
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).parent


class PageHandler(http.server.SimpleHTTPRequestHandler):
    def guess_type(self, path: str | os.PathLike[str]) -> str:
        # A module script must come with a JavaScript media type, whatever the system says.
        if str(path).endswith(".js"):
            return "text/javascript; charset=utf-8"
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # an edited page shows at once
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the API's log is the one worth reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the API's base URL")
    arguments = parser.parse_args()
    handler = functools.partial(PageHandler, directory=str(HERE))
    with http.server.ThreadingHTTPServer((arguments.host, arguments.port), handler) as server:
        origin = f"http://{arguments.host}:{arguments.port}"
        print(f"The page: {origin}/?api={quote(arguments.api, safe=':/')}", flush=True)
        print(f"Start the API with ATMP_CORS_ORIGINS={origin}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
