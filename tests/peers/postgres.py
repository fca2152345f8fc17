"""A throwaway PostgreSQL server for the tests, on 127.0.0.1 with trust authentication.

Follows the design notes (PEERS.md): ``initdb`` refuses to run as root, so as root the server
runs as the ``postgres`` system user (``runuser``) in a fresh temporary directory owned by it.
Durability is off (``fsync``, ``full_page_writes``, ``synchronous_commit``): this is for tests.

Typical use::

    with PostgresServer() as pg:
        pg.create_database("leadloop_test")
        engine = sqlalchemy.create_engine(pg.url("leadloop_test"))
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 20
COMMAND_TIMEOUT_SECONDS = 60.0
START_ATTEMPTS = 3  # a free port found by bind(0) can be taken before postgres binds it
INSTALL_HINT = "PostgreSQL is not installed: run `apt-get install -y postgresql`"


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries under /usr/lib/postgresql/*/bin."""


class PostgresError(RuntimeError):
    """initdb, pg_ctl or createdb failed; the message carries their output and the server log."""


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, removed again by ``stop()``."""

    def __init__(self, *, port: int | None = None) -> None:
        """Configure the server; nothing runs until ``start()`` (or ``with``).

        ``port=None`` picks a free port on 127.0.0.1.
        """
        self._requested_port = port
        self._port: int | None = None
        self._dir: Path | None = None
        self._bin = find_bin_dir()

    # Lifecycle

    def start(self) -> Self:
        """initdb a fresh cluster and start it; returns when it accepts connections."""
        if self._port is not None:
            return self
        self._dir = Path(tempfile.mkdtemp(prefix="leadloop-pg-"))
        try:
            if _is_root():
                shutil.chown(self._dir, user=SUPERUSER, group=SUPERUSER)
            self._run(
                "initdb",
                "-D", str(self._data_dir),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )  # fmt: skip
            self._start_server()
        except BaseException:
            self._remove_dir()
            raise
        atexit.register(self.stop)  # a test run that forgets stop() leaves no server behind
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        atexit.unregister(self.stop)
        if self._port is not None:
            self._port = None
            self._run("pg_ctl", "-D", str(self._data_dir), "-m", "fast", "-w", "stop")
        self._remove_dir()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Use

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgresServer is not started")
        return self._port

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL for ``dbname`` (psycopg 3 driver, superuser, no password)."""
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string for ``dbname``, for ``psycopg.connect``."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def create_database(self, name: str) -> None:
        """Create an empty database owned by the superuser."""
        self._run("createdb", "-h", HOST, "-p", str(self.port), "-U", SUPERUSER, "--", name)

    # Private helpers

    @property
    def _data_dir(self) -> Path:
        assert self._dir is not None
        return self._dir / "data"

    def _start_server(self) -> None:
        assert self._dir is not None
        attempts = 1 if self._requested_port is not None else START_ATTEMPTS
        for attempt in range(attempts):
            port = self._requested_port or _free_port()
            options = (
                f"-k {self._dir} -p {port} -c listen_addresses={HOST}"
                " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            )
            try:
                self._run(
                    "pg_ctl",
                    "-D", str(self._data_dir),
                    "-l", str(self._dir / "log"),
                    "-w", "-t", str(START_TIMEOUT_SECONDS),
                    "-o", options,
                    "start",
                )  # fmt: skip
            except PostgresError:
                if attempt + 1 == attempts:
                    raise
                continue
            self._port = port
            return

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if _is_root():
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        result = subprocess.run(
            command,
            cwd=self._dir,  # the postgres user may not be able to read the caller's directory
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        log = self._dir / "log" if self._dir else None
        if log is None or not log.is_file():
            return ""
        return "\nserver log:\n" + log.read_text(errors="replace")[-2000:]

    def _remove_dir(self) -> None:
        directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's server binaries (``/usr/lib/postgresql/N/bin``)."""
    candidates = [
        Path(path) for path in glob.glob("/usr/lib/postgresql/*/bin") if os.access(Path(path) / "initdb", os.X_OK)
    ]
    if not candidates:
        raise PostgresNotInstalled(INSTALL_HINT)
    return max(candidates, key=_major_version)


def _major_version(bin_dir: Path) -> int:
    version = bin_dir.parent.name
    return int(version) if version.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _is_root() -> bool:
    return os.geteuid() == 0
