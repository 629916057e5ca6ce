"""Several worker processes on one port, each with a listening socket of its own.

uvicorn's supervisor binds one socket and hands it to every worker. Clients that open their
keep-alive connections together (a load balancer, a pool of clients) then meet whichever
worker wakes first, which accepts every waiting connection at once: measured with 32 clients
and 2 workers, one worker got about 87% of the requests and the pair served less than one
worker alone. Here each worker gets its own socket bound with SO_REUSEPORT, and the kernel
spreads new connections over the workers' sockets.

The supervisor keeps one more socket bound to the port without listening: it holds the port
(and fails fast with uvicorn's message when it is taken) while workers come and go; the
kernel hands connections only to listening sockets. A worker's socket is closed in the
supervisor as soon as the worker has it, so a dead worker's connections are not left
waiting on a socket nobody accepts from. SO_REUSEPORT lets only processes of the same user
share the port (Linux).
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("uvicorn.error")  # where uvicorn says where it listens


def serve_in_workers(config: Config) -> None:
    """Run `config.workers` worker processes, one listening socket each, until a signal."""
    holder = _bound(config, announce=True)
    try:
        _OwnSockets(config, sockets=[]).run()
    finally:
        holder.close()


class _OwnSockets(Multiprocess):
    """uvicorn's supervisor; every worker it starts (or restarts) gets a new socket."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self._handed: list[socket.socket] = []
        super().__init__(config, sockets)

    @property  # the base class reads `sockets` for each worker it starts
    def sockets(self) -> list[socket.socket]:
        """A new socket on the port, for the worker about to start."""
        self._close_handed()  # the workers started before this one have theirs
        fresh = _bound(self.config)
        self._handed.append(fresh)
        return [fresh]

    @sockets.setter
    def sockets(self, value: list[socket.socket]) -> None:
        """Ignored: there is no socket shared by all workers."""

    def init_processes(self) -> None:
        """Start the workers, then let go of their sockets."""
        super().init_processes()
        self._close_handed()

    def restart_all(self) -> None:
        """Replace the workers one by one (SIGHUP), then let go of the new ones' sockets."""
        super().restart_all()
        self._close_handed()

    def keep_subprocess_alive(self) -> None:
        """Replace dead workers, then let go of the replacements' sockets."""
        super().keep_subprocess_alive()
        self._close_handed()

    def _close_handed(self) -> None:
        # A started worker holds its own copy (multiprocessing duplicated it at start).
        for handed in self._handed:
            handed.close()
        self._handed.clear()


def _bound(config: Config, *, announce: bool = False) -> socket.socket:
    """A socket bound to the configured address with SO_REUSEPORT, not listening yet."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        bound.bind((config.host, config.port))
    except OSError as error:  # as uvicorn does: one line, and its exit status
        bound.close()
        log.error(error)
        sys.exit(STARTUP_FAILURE)
    if announce:
        host = f"[{config.host}]" if family == socket.AF_INET6 else config.host
        log.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, config.port)
    bound.set_inheritable(True)
    return bound
