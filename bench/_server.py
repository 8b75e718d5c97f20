"""Start the API under gunicorn for a benchmark, on loopback and a free port, and always stop it.

    with gunicorn_server(database_url=url) as server:
        ...  # requests to server.base_url (http://127.0.0.1:<port>)

The server runs the production settings (`config.settings.production`, DEBUG off) with a throw-away SECRET_KEY,
so a figure measures what production would do, not the debug mode of local settings. Its output goes to a log
file under var/bench/; when the block fails, the file is kept and its tail printed, otherwise it is removed.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # loopback only: a benchmark never listens on a public interface
BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    pid: int
    workers: int
    worker_class: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port(host: str = HOST) -> int:
    """A port the kernel reports free now (another process could still take it before gunicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _wait_until_serving(server: Server, process: subprocess.Popen, timeout: float) -> None:
    """Poll /healthz until any HTTP answer comes back (503 is fine: it means Django is up, the broker is not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {server.log_path}")
        connection = http.client.HTTPConnection(server.host, server.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {server.log_path}")


def _stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM lets the master finish in-flight requests and stop its workers; SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def gunicorn_server(
    *,
    database_url: str,
    workers: int = 2,
    worker_class: str = "sync",
    extra_env: dict[str, str] | None = None,
    start_timeout: float = 60.0,
) -> Iterator[Server]:
    """Run `gunicorn config.wsgi` against `database_url` for the duration of the block.

    `sync` workers are what the Dockerfile runs; they close the connection after each response, so a
    keep-alive client reconnects per request (a loopback connect costs microseconds). `gthread` keeps it open.
    """
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = LOG_DIR / f"gunicorn-{port}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; production redirects to HTTPS
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",  # no per-request INFO lines in the timed path
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--config",
        str(BASE_DIR / "config" / "gunicorn.py"),  # the request limits production runs with
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--timeout",
        "120",
        "--no-control-socket",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(HOST, port, process.pid, workers, worker_class, log_path)
    failed = False
    try:
        _wait_until_serving(server, process, start_timeout)
        yield server
    except BaseException:
        failed = True
        if log_path.exists():
            tail = log_path.read_text(errors="replace")[-3000:]
            print(f"--- last lines of {log_path} ---\n{tail}", file=sys.stderr)
        raise
    finally:
        _stop(process)
        if not failed:
            log_path.unlink(missing_ok=True)  # kept only when something went wrong
