"""Serve the demo hospital page with the chat widget embedded (make run: http://localhost:8080).

A stand-in for the hospital's own web server: it serves the built widget
(widget/dist/) and the demo page, pointing the page's embed snippet at the
Rasa server given on the command line.
"""

from __future__ import annotations

import argparse
import html
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from paths import WIDGET_DIR

DIST = WIDGET_DIR / "dist"
DEMO_PAGE = WIDGET_DIR / "demo" / "index.html"
SERVED_FILES = {"/itb-chat.js", "/itb-chat.js.map"}


class DemoHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, page: bytes, **kwargs) -> None:
        self.page = page
        super().__init__(*args, directory=str(DIST), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        elif path in SERVED_FILES:
            super().do_GET()
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the page server has nothing a developer needs to read."""


def demo_page(rasa_url: str) -> bytes:
    return DEMO_PAGE.read_text(encoding="utf-8").replace("{{RASA_URL}}", html.escape(rasa_url)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    args = parser.parse_args()
    if not (DIST / "itb-chat.js").exists():
        raise SystemExit("widget/dist/itb-chat.js is missing: run `make widget` first.")
    handler = partial(DemoHandler, page=demo_page(args.rasa_url))
    try:
        server = ThreadingHTTPServer((args.host, args.port), handler)
    except OSError as error:
        raise SystemExit(
            f"Can't serve the demo page on port {args.port} ({error.strerror}): "
            f"stop what is using it, or choose another port (make run DEMO_PORT=8081)."
        ) from None
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()
