"""A PostgreSQL server of a test's own, on another port: to stop, freeze and restart at will.

The shared server on 5432 is never touched. The instance runs from the Debian binaries in
/usr/lib/postgresql/*/bin, as the `postgres` user when the tests run as root (PostgreSQL
refuses to run as root), with its data and socket in a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


class PostgresInstance:
    """One initdb'd cluster: `start`, `stop`, `freeze`/`thaw` (SIGSTOP/SIGCONT), `url`."""

    def __init__(self) -> None:
        if not _BINARIES:
            raise RuntimeError("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
        self.bin = _BINARIES[-1]
        self.root = Path(tempfile.mkdtemp(prefix="shipml-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._user = _server_user()
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A psycopg URL of a database on this server (a password is accepted and ignored)."""
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://postgres{secret}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        """Stop the server at once (as a crash would)."""
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    @property
    def running(self) -> bool:
        """Whether the server's processes are there (frozen or not)."""
        return bool(self._processes())

    def create_database(self, name: str) -> str:
        """Create database `name` and return its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def freeze(self) -> None:
        """Stop every process of the server (SIGSTOP): it accepts TCP but never answers."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _signal(self, number: signal.Signals) -> None:
        for process in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):  # a backend that just ended
                process.send_signal(number)

    def _processes(self) -> list[psutil.Process]:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        try:
            main = psutil.Process(int(pid_file.read_text().split()[0]))
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _run(self, program: str, *arguments: str, check: bool = True) -> None:
        command = [str(self.bin / program), *arguments]
        if self._user is not None:
            command = ["runuser", "-u", self._user.pw_name, "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=120, cwd=self.root)


@contextmanager
def postgres_instance() -> Iterator[PostgresInstance]:
    """A started instance, removed afterwards."""
    instance = PostgresInstance()
    try:
        instance.start()
        yield instance
    finally:
        instance.remove()


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as: `postgres` when running as root, else ourselves."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("postgres")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
