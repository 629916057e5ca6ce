"""A real HTTP server on 127.0.0.1 that answers from a script and records every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """How to answer one request: a status, after an optional delay."""

    status: int = 200
    delay_seconds: float = 0.0


@dataclass
class Recorder:
    """The requests received, and the replies still to give (the last one repeats)."""

    replies: list[Reply]
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, path, body
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)


@contextmanager
def http_server(*replies: Reply) -> Iterator[Recorder]:
    """Serve on a free port until the block ends; `recorder.url` is the base URL."""
    recorder = Recorder(list(replies) or [Reply()])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with recorder.lock:
                recorder.requests.append((self.command, self.path, body))
            reply = recorder.next_reply()
            time.sleep(reply.delay_seconds)
            self.send_response(reply.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
