"""A throwaway PostgreSQL server: the database that replicas share in production, here for one test module.

Debian's `postgresql` package (`.ci/run` installs it): `initdb` makes a cluster in a temporary
directory, `pg_ctl` starts it on a free loopback port (fsync off: nothing here must survive a
crash) and stops it. initdb refuses to run as root, so as root the cluster belongs to the
unprivileged `postgres` user the package creates. Connections use trust authentication, on
127.0.0.1 only.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from . import processes

SERVER_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "listen_addresses=127.0.0.1"]


class Unavailable(Exception):
    """Why PostgreSQL cannot run here: the tests skip with this reason."""


@dataclass(frozen=True)
class Cluster:
    port: int

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL for `--db`."""
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def binaries() -> Path:
    """The directory with initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    if found := shutil.which("initdb"):
        return Path(found).resolve().parent
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    raise Unavailable("PostgreSQL is not installed (Debian: apt install postgresql; .ci/run installs it)")


def as_cluster_owner() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a PostgreSQL binary as a user allowed to, and that user if not us."""
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no 'postgres' user to run PostgreSQL as") from None
    return ["runuser", "-u", "postgres", "--"], owner


@contextmanager
def temporary_cluster() -> Iterator[Cluster]:
    """A running PostgreSQL on a free port, removed with its files on exit."""
    bin_dir = binaries()
    prefix, owner = as_cluster_owner()
    port = processes.free_port()
    home = Path(tempfile.mkdtemp(prefix="mcp-workshop-pg-"))
    try:
        if owner is not None:
            os.chown(home, owner.pw_uid, owner.pw_gid)
        data, log = home / "data", home / "server.log"

        def run(*command: str) -> None:
            done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                logged = log.read_text() if log.exists() else ""
                raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()}\n{logged}")

        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = " ".join([f"-p {port}", f"-k {home}", *(f"-c {setting}" for setting in SERVER_SETTINGS)])
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        try:
            yield Cluster(port)
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
