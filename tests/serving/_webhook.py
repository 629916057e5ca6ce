"""An alert webhook on 127.0.0.1 that answers every POST with a 500 and remembers it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_PATH = "/services/T000/B000/SECRETTOKEN123"  # the secret part of a Slack-style URL


class FailingWebhook(ThreadingHTTPServer):
    """Counts the POSTs it refused."""

    posts: int = 0

    @property
    def url(self) -> str:
        """The webhook's URL, secret path included."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{SECRET_PATH}"


class _Refuse(BaseHTTPRequestHandler):
    server: FailingWebhook

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.posts += 1
        self.send_response(500)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the server's log, not this one's."""


@contextmanager
def failing_webhook() -> Iterator[FailingWebhook]:
    """A webhook that fails every delivery, served in a thread until the block ends."""
    server = FailingWebhook(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
