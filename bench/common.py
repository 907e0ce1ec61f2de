"""What the benchmarks share: the two backends, fresh databases on them, gunicorn and dispatcher processes.

Backends: "sqlite" is a file in a temporary folder; "postgresql" is a fresh database created on the
server named by TEST_DATABASE_URL (scripts/with-postgres.sh exports it, as `make test` and `make bench`
do) and dropped at the end, so a benchmark never sees another's rows.

A benchmark script takes `--database sqlite|postgresql` and `--json FILE`: it prints its figures and
writes them to FILE as {"name": value}, which bench/all.py puts side by side.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BACKENDS = ("sqlite", "postgresql")

sys.path.insert(0, str(ROOT))
os.environ.setdefault("ALLOW_TESTING", "1")  # APP_ENV=testing outside pytest needs saying so

import app  # noqa: E402, F401 - the app's modules, and with them their tables
from core.config import Settings  # noqa: E402
from core.db import Base, make_engine  # noqa: E402

for _models in sorted(ROOT.glob("*/models.py")):  # every table on Base.metadata before create_all
    importlib.import_module(f"{_models.parent.name}.models")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def held_port() -> Iterator[int]:
    """A free loopback port, kept bound while the block runs: a server started in it on port 0 (the
    sandbox) cannot be given the same port, which the app binds once the block ends. With free_port
    alone, the sandbox was once handed the app's port and gunicorn found it in use."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit(
            "--database postgresql needs TEST_DATABASE_URL: run under scripts/with-postgres.sh (as `make bench` does)"
        )
    return url


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database with the schema on `backend`; dropped (PostgreSQL) at the end."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    server = make_url(postgres_url())
    name = f"callme_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_env(**settings: str) -> dict[str, str]:
    """The environment of an app process: the caller's, minus any app setting, plus `settings`."""
    env = dict(os.environ)
    for setting in fields(Settings):  # nothing from the caller's shell leaks into the app's settings
        env.pop(setting.name.upper(), None)
    # PYTHONPATH: the app of this checkout, whichever checkout the virtualenv was installed from.
    env.update(
        ALLOW_TESTING="1", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), SCHEDULER="off", **settings
    )
    return env


class Process:
    """A child process in its own process group, its output in a log file; stopped TERM then KILL."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()


class Gunicorn(Process):
    """gunicorn (gthread) serving `target` on a free loopback port."""

    def __init__(self, workdir: Path, target: str, workers: int, threads: int, port: int = 0, **settings: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = app_env(PUBLIC_BASE_URL=self.url, **settings)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--keep-alive",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
            target,
        ]
        super().__init__(command, env, workdir / f"gunicorn-{self.port}.log")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f}s:\n{self.log_tail()}")


def schedulers(workdir: Path, count: int, env: dict[str, str]) -> list[Process]:
    """`count` dispatcher processes (`flask --app app scheduler`), as production runs them."""
    return [
        Process([str(BIN / "flask"), "--app", "app", "scheduler"], env, workdir / f"scheduler-{n}.log")
        for n in range(count)
    ]


def head_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %cI %s"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()[:100]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_json(path: str | None, figures: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(figures, indent=1))


def on_term() -> None:
    """A TERM from outside runs the `finally` blocks (and so stops the children)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
