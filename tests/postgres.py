"""A real PostgreSQL server for the tests, started from Debian's ``postgresql``
package (``initdb`` and ``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``) in a
temporary folder, listening on a Unix socket there only, and stopped at the end.

The server refuses to run as root: as root, the folder is given to ``nobody`` and the
server runs as that user (``runuser``). ``require_postgres()`` skips a test when
the package is missing, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

UNPRIVILEGED = "nobody"
SUPERUSER = "newscrawl"


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb``."""
    root = Path("/usr/lib/postgresql")
    found = [d / "bin" for d in root.glob("*") if (d / "bin" / "initdb").exists()]
    return max(found, key=lambda p: int(p.parent.name)) if found else None


def require_postgres() -> Path:
    """The server's programs, or skip (outside CI) / fail (in CI) saying why."""
    found = postgres_bin()
    if found is None:
        reason = (
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb):"
            " apt-get install -y postgresql"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL tests)", pytrace=False)
        pytest.skip(reason)
    return found


class PostgresServer:
    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log = root / "server.log"
        self._databases = 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", UNPRIVILEGED, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, UNPRIVILEGED)
            shutil.chown(self.socket_dir, UNPRIVILEGED)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"test{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A server of its own in a temporary folder, stopped and removed at the end."""
    bin_dir = require_postgres()
    # Not under pytest's tmp_path: its folders are private to root, and the server
    # runs as another user. /tmp also keeps the socket's path short.
    root = Path(tempfile.mkdtemp(prefix="newscrawl-pg-"))
    server = PostgresServer(bin_dir, root)
    try:
        server.start()
        yield server
    finally:
        try:
            if (server.data / "postmaster.pid").exists():
                server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
