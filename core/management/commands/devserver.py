"""`manage.py devserver`: the API, a Celery worker and Celery beat in one terminal (`make run`).

Each child runs in its own session, so a Ctrl-C in the terminal reaches only this process, which then sends each
child one SIGTERM (a warm shutdown for the worker), instead of the terminal's SIGINT hitting every process, pool
processes included, at once. A child still running after STOP_GRACE_SECONDS is killed with its process group. The
price of separate sessions: if this process itself is killed with SIGKILL, the children outlive it.
If one child dies, the others are stopped too and the command exits non-zero: half a system must not look like a
running one.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.utils import termcolors
from kombu.utils.url import maybe_sanitize_url

STOP_GRACE_SECONDS = 10
_COLOURS = {"web": "green", "worker": "cyan", "beat": "magenta"}


@dataclass
class _Child:
    name: str
    command: list[str]
    process: subprocess.Popen[str] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Command(BaseCommand):
    help = "Run the API (runserver), a Celery worker and Celery beat together; Ctrl-C stops all three."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port of the API on 127.0.0.1 (default 8000).")

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        self._output_lock = threading.Lock()
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())

        # Beat cannot create the folder of its schedule file (with Redis nothing else creates var/ either).
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
        children = self._children(port)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "PYTHONUNBUFFERED": "1"}
        for child in children:
            child.process = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
                child.command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        for child in children:
            child.reader = threading.Thread(target=self._relay, args=(child,), daemon=True)
            child.reader.start()

        failed = self._supervise(children, stop, port)
        self._stop_all(children)
        if failed is not None:
            assert failed.process is not None
            raise CommandError(
                f"{failed.name} exited with code {failed.process.returncode}; stopped the others.", returncode=1
            )
        self._write("devserver", "all processes stopped.")

    def _children(self, port: int) -> list[_Child]:
        celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
        return [
            _Child("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
            # The solo pool: one process and one SQLite writer, and it stops in a few seconds on SIGTERM, where
            # prefork takes 6-8 s to drain over the filesystem broker. It does not enforce task time limits.
            # All queues in one worker here; production runs deliveries on a worker of their own (compose).
            _Child("worker", [*celery, "worker", "--loglevel=info", "--pool=solo", "-Q", "celery,webhooks,deliveries"]),
            _Child(
                "beat", [*celery, "beat", "--loglevel=info", f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"]
            ),
        ]

    def _supervise(self, children: list[_Child], stop: threading.Event, port: int) -> _Child | None:
        """Wait for a signal or for a child to die; print the banner once the API accepts connections."""
        banner_printed = False
        while not stop.wait(0.5):
            for child in children:
                assert child.process is not None
                if child.process.poll() is not None:
                    return child
            if not banner_printed and _port_open(port):
                self._print_banner(port)
                banner_printed = True
        return None

    def _stop_all(self, children: list[_Child]) -> None:
        alive = [child for child in children if child.process is not None and child.process.poll() is None]
        for child in alive:
            assert child.process is not None
            # SIGTERM to the main process only: the worker then shuts its pool down itself (a warm shutdown).
            child.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in alive:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self._write("devserver", f"{child.name} did not stop in {STOP_GRACE_SECONDS}s: killing it.")
                os.killpg(child.process.pid, signal.SIGKILL)  # its whole group: pool processes included
                child.process.wait()
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout=2)

    def _relay(self, child: _Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        stream: IO[str] = child.process.stdout
        for line in stream:
            self._write(child.name, line.rstrip("\n"))

    def _write(self, name: str, text: str) -> None:
        prefix = f"{name:<9}|"
        if self.stdout.isatty():
            prefix = termcolors.colorize(prefix, fg=_COLOURS.get(name, "yellow"))
        with self._output_lock:
            for line in text.splitlines() or [""]:
                self.stdout.write(f"{prefix} {line}")

    def _print_banner(self, port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        broker = maybe_sanitize_url(settings.CELERY_BROKER_URL)
        if broker.startswith("filesystem://"):
            broker = f"filesystem (embedded, {settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']})"
        lines = [
            "",
            "Otklik is running. Ctrl-C stops the API, the worker and beat.",
            f"  API        {base}/api/v1/  (for a start: {base}/api/v1/me/ with a token below)",
            f"  Swagger    {base}/api/docs/",
            f"  ReDoc      {base}/api/redoc/",
            f"  Admin      {base}/admin/",
            f"  Health     {base}/healthz",
            f"  Database   {connection.vendor}; broker {broker}",
            "",
            *self._demo_logins().splitlines(),
            "",
        ]
        self._write("devserver", "\n".join(lines))

    def _demo_logins(self) -> str:
        # The demo users belong to the registry app; imported here so core does not depend on publics at import.
        from publics.demo import demo_logins, format_logins

        try:
            return "Demo logins:\n" + format_logins(demo_logins())
        except DatabaseError as exc:
            return f"Demo logins unavailable ({exc}): run `manage.py migrate` and `manage.py seed_demo`."
        finally:
            connection.close()  # the children do the work; this process keeps no connection open


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
