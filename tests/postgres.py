"""A real PostgreSQL server for the tests, found or started, and a fresh database per test.

Fixtures (in conftest.py):

- `postgres_dsn` (session): the admin URL of a server where the tests may create
  databases. Chosen in this order:
  1. `FLOWC_TEST_POSTGRES`, if set (a URL or key=value DSN). If it does not answer the
     session fails: a server that was asked for is never silently replaced.
  2. a server on localhost:5432 that answers within 2 seconds and lets us create
     databases, as `postgres`, then as the current OS user.
  3. a throwaway cluster from the local binaries (`pg_config --bindir`, then
     /usr/lib/postgresql/*/bin): initdb with trust auth into a temp dir, started on a free
     port with its socket in that dir, stopped and deleted at the end of the session.
     initdb refuses to run as root, so as root the cluster runs as `FLOWC_TEST_PG_USER`
     (default `nobody`) through `runuser`, in a temp dir that user owns.
  If none works the session fails with what was tried; PostgreSQL tests are never skipped.
- `pg_url` (function): the URL of a new, empty database, dropped after the test.
- `pg_conn` (function): an autocommit psycopg connection to that database.

The fixtures are defined here and registered by an import in conftest.py. Nothing here is
flowc code: it only serves the tests.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

ENV_VAR = "FLOWC_TEST_POSTGRES"
USER_ENV_VAR = "FLOWC_TEST_PG_USER"
CONNECT_TIMEOUT = 2


class NoPostgres(RuntimeError):
    """No PostgreSQL server could be found or started."""


def probe(dsn: str) -> str | None:
    """None if `dsn` answers and may create databases, else why not."""
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            row = conn.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as error:
        return str(error).strip() or type(error).__name__
    if not row or not row[0]:
        return "connected, but the role may not create databases"
    return None


def local_candidates() -> list[str]:
    return [
        f"postgresql://{quote(user)}@localhost:5432/postgres"
        for user in dict.fromkeys(["postgres", getpass.getuser()])
    ]


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    candidates: list[str] = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        candidates.append(bindir)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayCluster:
    """A PostgreSQL cluster in a temp dir, for one test session; a context manager."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user: str | None = None  # the OS user the server runs as, when we are root
        self.root = Path(tempfile.mkdtemp(prefix="flowc-pg-"))
        self.data = self.root / "data"
        self.port = 0

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise NoPostgres(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> ThrowawayCluster:
        if os.geteuid() == 0:
            self.user = os.environ.get(USER_ENV_VAR, "nobody")
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        for _ in range(3):  # the free port may be taken between choosing and binding
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                    "-o", f"-p {self.port} {options}", "-w", "-t", "60", "start",
                )  # fmt: skip
                return self
            except NoPostgres:
                continue
        log = (self.root / "server.log").read_text(errors="replace")
        raise NoPostgres(f"the throwaway cluster did not start:\n{log}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The admin DSN of a server, found or started (see the module docstring)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        problem = probe(configured)
        if problem:
            raise NoPostgres(f"{ENV_VAR} is set but its server is not usable: {problem}")
        yield configured
        return
    tried = []
    for dsn in local_candidates():
        problem = probe(dsn)
        if problem is None:
            yield dsn
            return
        tried.append(f"{dsn}: {problem}")
    bindir = find_bindir()
    if bindir is None:
        raise NoPostgres(
            "no PostgreSQL for the tests: set "
            f"{ENV_VAR}=postgresql://..., run a server on localhost:5432, or install the"
            " PostgreSQL server binaries (initdb, pg_ctl). Tried:\n" + "\n".join(tried)
        )
    with ThrowawayCluster(bindir) as cluster:
        yield cluster.dsn


def database_url(admin_dsn: str, dbname: str) -> str:
    """The URL of `dbname` on the admin DSN's server, with the same credentials."""
    params = {k: str(v) for k, v in conninfo_to_dict(admin_dsn).items() if v is not None}
    params.pop("dbname", None)
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    host = params.pop("host", "")
    port = params.pop("port", "")
    if host.startswith("/"):  # a unix socket directory cannot be a URL's host
        params["host"] = host
        host = ""
    auth = f"{user}:{quote(password, safe='')}@" if password is not None else f"{user}@"
    netloc = (auth if user or password else "") + host + (f":{port}" if port else "")
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{query}"


@contextlib.contextmanager
def fresh_database(admin_dsn: str) -> Iterator[str]:
    """A new empty database for one test; its URL. Dropped afterwards, even if in use."""
    name = f"flowc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(admin_dsn, name)
    finally:
        with psycopg.connect(admin_dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force)
            )


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The admin DSN of the session's server; use `pg_url` for a database to work in."""
    with contextlib.ExitStack() as stack:
        problem = ""
        try:
            dsn = stack.enter_context(postgres_server())
        except NoPostgres as error:
            problem = str(error)
        if problem:  # failed outside the except block, so the report is the message alone
            pytest.fail(problem, pytrace=False)
        yield dsn


@pytest.fixture
def pg_url(postgres_dsn: str) -> Iterator[str]:
    """The URL of a fresh database for this test only."""
    with fresh_database(postgres_dsn) as url:
        yield url


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """An autocommit connection to this test's fresh database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn
