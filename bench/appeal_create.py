"""Appeal intake through the API under gunicorn, against a bare DRF view doing one INSERT per request.

    .venv/bin/python -m bench.appeal_create [--requests 2000] [--runs 5] [--threads 8] [--workers 2]
                                            [--worker-class sync] [--profile auto|always|never]

`POST /api/v1/appeals/` is how platform connectors and integrations hand in appeals: scope check of the page,
idempotency on (page, external_id), SLA policy and deadlines, the appeal and its "created" event in one
transaction, and the stored appeal read back with its SLA state. The reference is `POST /bench/bare-insert/`
(bench/bare_urls.py): the same stack, token and payload, one INSERT of the same appeal into the same table and
nothing else. Target: the API sustains at least 40% of the bare view's requests/s.

Setup, on PostgreSQL only (DATABASE_URL, default postgres://root@127.0.0.1:5432/otklik_bench; created if missing
and migrated; the appeal tables are emptied before and after, and only in a database whose name says "bench"):
one organisation in Moscow with a VK page, and an integration user bound to the organisation with a DRF token.
Both endpoints are served by the same gunicorn (bench/_server.py; settings bench.settings_bench = production
settings, DEBUG off, plus the reference's URL), fed by 8 client threads, each with its own keep-alive connection
(http.client), every request a new external_id. Rounds alternate which side goes first; medians are reported.
A pre-flight checks that a repeated external_id answers 200 with the same appeal (idempotent intake).
Then, in process (django.test.Client on the same database, the full middleware stack, no HTTP), the API against
the bare view in five alternating rounds: their ratio, and where the API's milliseconds go phase by phase.
When the API misses the target, one request path is profiled in-process (django.test.Client on the same
PostgreSQL database, cProfile and SQL time) and the biggest costs are printed.
Benchmarks are not tests: this prints its figures and the target, and never fails on timing.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import http.client
import io
import json
import os
import pstats
import random
import re
import secrets
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench._common import (
    add_server_arguments,
    database_url_or_exit,
    ensure_database,
    machine_load,
    production_redis,
    release_bench_redis,
    setup_django,
)

TARGET_SHARE = 0.40
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/otklik_bench"
API_PATH = "/api/v1/appeals/"
BARE_PATH = "/bench/bare-insert/"
TEXTS = (
    "Во дворе дома 12 по улице Строителей уже неделю не вывозят мусор, контейнеры переполнены. Когда уберут?",
    "Прошу отремонтировать дорогу на улице Ленина: ямы по колено, машины ломаются, автобусы объезжают.",
    "Подскажите, как записать ребёнка в детский сад, если мы переехали из другого района в этом году?",
    "На остановке «Школа» третью неделю не работает освещение, вечером там темно и опасно.",
)
NAMES = ("Иван Петров", "Мария Смирнова", "Алексей Кузнецов", "Ольга Иванова")


# --- database and fixture -------------------------------------------------------------------------------------


def empty_appeal_tables(url: str) -> None:
    """Start (and leave) the appeal tables empty, so a figure does not drift with earlier runs' rows.

    TRUNCATE, because the history is append-only (a trigger refuses DELETE). Only in a bench database.
    """
    from django.db import connection

    if "bench" not in urlsplit(url).path:
        print("  (the database name has no 'bench' in it: appeal tables left as they are)")
        return
    with connection.cursor() as cursor:
        # CASCADE: the rooms above appeals (connectors) reference appeals and replies.
        cursor.execute("TRUNCATE appeals_appealevent, appeals_reply, appeals_appeal CASCADE")


@dataclass(frozen=True)
class Seed:
    page_id: int
    token: str


def seed() -> Seed:
    """An organisation, its page and an integration bound to the organisation; idempotent."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from publics.models import Membership, Organization, Page, Region, Role

    organization, _ = Organization.objects.get_or_create(
        name="bench-appeals-organization",
        defaults={"kind": "regional_government", "region": Region.objects.get(code="RU-MOW")},
    )
    page, _ = Page.objects.get_or_create(
        platform="vk",
        platform_id="bench-appeals-page",
        defaults={"organization": organization, "title": "Бенчмарк приёма обращений"},
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-appeals-integration")
    Membership.objects.get_or_create(user=user, role=Role.INTEGRATION, organization=organization)
    token, _ = Token.objects.get_or_create(user=user)
    return Seed(page_id=page.pk, token=token.key)


# --- requests ---------------------------------------------------------------------------------------------------


def make_bodies(page_id: int, count: int, prefix: str, seed_value: int) -> list[bytes]:
    """`count` appeal payloads, each with a new external_id: what a VK connector sends."""
    rng = random.Random(seed_value)
    now = dt.datetime.now(dt.UTC)
    bodies = []
    for index in range(count):
        formal = rng.random() < 0.1
        payload = {
            "page": page_id,
            "external_id": f"{prefix}-{index}",
            "kind": "appeal" if formal else "message",
            "channel": "direct_message" if formal else rng.choice(("comment", "direct_message", "wall_post")),
            "text": rng.choice(TEXTS),
            "author": {"platform_user_id": str(rng.randrange(10**8, 10**9)), "name": rng.choice(NAMES)},
            "received_at": (now - dt.timedelta(seconds=rng.randrange(1, 600))).isoformat(),
        }
        bodies.append(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    return bodies


class Client:
    """One keep-alive connection (reopened by http.client when a sync worker closes it after a response)."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.connection.request("POST", path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection closed by the server before the request was read: resend once.
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def run_side(base_url: str, token: str, path: str, bodies: list[bytes], threads: int) -> float:
    """POST every body from `threads` clients; requests/s over the wall time. Any answer but 201 stops the run."""
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        client = Client(base_url, token)
        try:
            while not errors:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                status, payload = client.post(path, bodies[index])
                if status != 201:
                    errors.append(f"{path} #{index}: HTTP {status} {payload[:300]!r}")
        except Exception as exc:  # reported by the main thread, which stops the run
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            client.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError("a request failed: " + "; ".join(errors[:3]))
    return len(bodies) / elapsed


def preflight(base_url: str, token: str, page_id: int, prefix: str) -> None:
    """The same external_id twice: 201 then 200 with the same appeal; and the reference answers 201."""
    client = Client(base_url, token)
    try:
        body = make_bodies(page_id, 1, f"{prefix}-preflight", 1)[0]
        first_status, first = client.post(API_PATH, body)
        again_status, again = client.post(API_PATH, body)
        bare_status, bare = client.post(BARE_PATH, make_bodies(page_id, 1, f"{prefix}-preflight-bare", 2)[0])
    finally:
        client.close()
    if first_status != 201 or bare_status != 201:
        raise RuntimeError(f"pre-flight: API {first_status} {first[:300]!r}; bare view {bare_status} {bare[:300]!r}")
    first_id = json.loads(first)["id"]
    again_id = json.loads(again).get("id") if again_status == 200 else None
    verdict = "idempotent" if again_status == 200 and again_id == first_id else "NOT idempotent"
    print(
        f"pre-flight: new external_id -> {first_status} (appeal {first_id}); the same again -> {again_status} "
        f"(appeal {again_id}): {verdict}; bare view -> {bare_status}"
    )


# --- profile ----------------------------------------------------------------------------------------------------


def profile_request_path(token: str, page_id: int, prefix: str, requests: int) -> None:
    """Time `requests` bare inserts and `requests` creations in-process through Django's full stack (as a gunicorn
    worker would, without HTTP), then profile as many more creations under cProfile with SQL timed per statement."""
    from django.db import connection
    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    statements: dict[str, list[float]] = {}

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.setdefault(_statement_kind(sql), []).append(time.perf_counter() - started)

    def post_all(path: str, bodies: list[bytes]) -> float:
        """Milliseconds per request."""
        started = time.perf_counter()
        for body in bodies:
            # secure: the production settings redirect plain HTTP to HTTPS (SECURE_SSL_REDIRECT)
            response = client.post(path, data=body, content_type="application/json", secure=True)
            assert response.status_code == 201, response.content[:300]
        return (time.perf_counter() - started) / len(bodies) * 1000

    bodies = make_bodies(page_id, 3 * requests + 1, f"{prefix}-profile", 3)
    client.post(API_PATH, data=bodies[-1], content_type="application/json", secure=True)  # warm caches
    bare_ms = post_all(BARE_PATH, bodies[:requests])
    api_ms = post_all(API_PATH, bodies[requests : 2 * requests])
    profiler = cProfile.Profile()
    with connection.execute_wrapper(timed_sql):
        profiler.enable()
        profiled_ms = post_all(API_PATH, bodies[2 * requests : 3 * requests])
        profiler.disable()
    sql_ms = sum(sum(times) for times in statements.values()) / requests * 1000
    count = sum(len(times) for times in statements.values()) / requests
    print(
        f"\nin-process on PostgreSQL, {requests} requests each, no HTTP: API {api_ms:.2f} ms per appeal, bare view "
        f"{bare_ms:.2f} ms per insert: ratio {bare_ms / api_ms:.1%}"
    )
    print(
        f"profile of {requests} more creations: {profiled_ms:.2f} ms each with the profiler on; SQL {count:.0f} "
        f"statements, {sql_ms:.2f} ms (round trips included); the rest is Python"
    )
    for kind, times in sorted(statements.items(), key=lambda item: -sum(item[1])):
        print(f"    {len(times) / requests:4.1f} x {kind:<60} {sum(times) / requests * 1000:6.2f} ms")
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stream.write("The application's own functions, by cumulative time:\n")
    own_code = re.escape(str(Path(__file__).resolve().parent.parent)) + r"/(appeals|publics|core)/"
    stats.sort_stats("cumulative").print_stats(own_code, 25)
    stats.strip_dirs()
    stream.write("Everything, by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(30)
    stream.write("Everything, by own time:\n")
    stats.sort_stats("tottime").print_stats(15)
    print(stream.getvalue())


# Where one request's time goes, phase by phase (what the profile shows in detail, without its overhead).
PHASES = (
    ("core.authentication", "ThrottledTokenAuthentication", "authenticate", "token authentication"),
    ("core.authentication", "FailedTokenThrottle", "retry_after", "  of which the failed-token check (cache)"),
    ("core.access", None, "membership_rows", "the caller's memberships (cache)"),
    ("appeals.api.serializers", "AppealCreateSerializer", "is_valid", "input validation"),
    ("appeals.services", None, "appeal_create", "intake service"),
    ("appeals.services.intake", None, "appeal_build", "  of which policy and deadlines"),
    (
        "appeals.services.intake",
        None,
        "history_insert_with_appeal",
        "  of which the INSERT of the appeal and its event",
    ),
    ("appeals.api.serializers", "AppealSerializer", "to_representation", "the appeal serialised"),
    ("core.outbox", None, "_send_coalesced", "the rollups' re-roll queued (Redis, on commit)"),
)


def in_process_ratio(token: str, page_id: int, prefix: str, *, requests: int = 200, rounds: int = 5) -> None:
    """The API against the bare view in process (django.test.Client, the full middleware stack, no HTTP), in
    alternating rounds, with the time of each phase of the API's request; medians are printed."""
    import importlib

    from django.db import connection
    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    spent: dict[str, float] = {}
    counting = [False]
    originals = []

    def timed(label: str, function):
        def wrapper(*args, **kwargs):
            if not counting[0]:
                return function(*args, **kwargs)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    for module_name, class_name, attribute, label in PHASES:
        owner = importlib.import_module(module_name)
        owner = getattr(owner, class_name) if class_name else owner
        originals.append((owner, attribute, getattr(owner, attribute)))
        setattr(owner, attribute, timed(label, getattr(owner, attribute)))
    sql: list[float] = []

    def timed_sql(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            if counting[0]:
                sql.append(time.perf_counter() - started)

    cpu: dict[str, list[float]] = {"api": [], "bare": []}

    def per_request(path: str, bodies: list[bytes], side: str) -> float:
        backend = _backend_cpu_seconds(connection)
        started_cpu = time.process_time()
        started = time.perf_counter()
        for body in bodies:
            response = client.post(path, data=body, content_type="application/json", secure=True)
            assert response.status_code == 201, response.content[:300]
        elapsed = time.perf_counter() - started
        spent_cpu = time.process_time() - started_cpu + _backend_cpu_seconds(connection) - backend
        cpu[side].append(spent_cpu / len(bodies) * 1000)
        return elapsed / len(bodies) * 1000

    try:
        bodies = make_bodies(page_id, 2 * rounds * requests + 1, f"{prefix}-inproc", 4)
        client.post(API_PATH, data=bodies[-1], content_type="application/json", secure=True)
        api_ms: list[float] = []
        bare_ms: list[float] = []
        with connection.execute_wrapper(timed_sql):
            for run in range(rounds):
                chunk = bodies[2 * run * requests : 2 * (run + 1) * requests]
                order = [("bare", chunk[:requests]), ("api", chunk[requests:])]
                if run % 2:
                    order.reverse()
                for side, part in order:
                    counting[0] = side == "api"
                    (api_ms if side == "api" else bare_ms).append(
                        per_request(BARE_PATH if side == "bare" else API_PATH, part, side)
                    )
                    counting[0] = False
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)
    api, bare = statistics.median(api_ms), statistics.median(bare_ms)
    ratio = statistics.median(b / a for a, b in zip(api_ms, bare_ms, strict=True))
    total = rounds * requests
    print(
        f"\nin process (no HTTP), {rounds} rounds of {requests}: API {api:.2f} ms per appeal, bare view {bare:.2f} ms "
        f"per insert: ratio {ratio:.1%} (median of the rounds' ratios; target {TARGET_SHARE:.0%})"
    )
    cpu_api, cpu_bare = statistics.median(cpu["api"]), statistics.median(cpu["bare"])
    cpu_ratio = statistics.median(b / a for a, b in zip(cpu["api"], cpu["bare"], strict=True))
    print(
        f"  CPU time per request (this process and its PostgreSQL backend, what other load on the machine does not "
        f"add to): API {cpu_api:.2f} ms, bare view {cpu_bare:.2f} ms: ratio {cpu_ratio:.1%}"
    )
    print(f"  where the API's {api:.2f} ms go (mean per request over all rounds):")
    for _, _, _, label in PHASES:
        print(f"    {label:<52} {spent.get(label, 0.0) / total * 1000:6.2f} ms")
    print(
        f"    {'SQL, all statements (round trips included)':<52} {sum(sql) / total * 1000:6.2f} ms, {len(sql) / total:.1f} statements"
    )


def _backend_cpu_seconds(connection) -> float:
    """CPU seconds (user + system) spent so far by this connection's PostgreSQL backend (a local server: /proc)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # not on this machine: the figure is this process's CPU alone
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _statement_kind(sql: str) -> str:
    """A short name for a statement: its verb, first table and shape, enough to tell one request's queries apart."""
    words = sql.replace('"', "").split()
    verb = words[0].upper()
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    table = next((words[words.index(keyword) + 1] for keyword in ("INTO", "FROM") if keyword in words), "")
    shape = ""
    if verb == "SELECT":
        if "redirected_to_id" in sql and "CASE" in sql:
            shape = " (read-back with SLA annotations)"
        elif sql.rstrip().endswith("LIMIT 1"):
            shape = " (.first())"
        elif "INNER JOIN" in sql:
            shape = " (joined)"
    return f"{verb} {table}{shape}"


# --- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="appeals per side per run (default 2,000)")
    parser.add_argument("--runs", type=int, default=5, help="alternating API/bare runs; medians (default 5)")
    add_server_arguments(parser, threads=8)
    args = parser.parse_args()

    url = database_url_or_exit(
        DEFAULT_DATABASE_URL,
        "bench.appeal_create needs PostgreSQL (production runs on it; SQLite's one writer would serialise the "
        "clients).",
    )
    chosen_redis = production_redis()
    ensure_database(url)
    setup_django(url, settings_module="bench.settings_bench")
    from bench._server import gunicorn_server

    seeded = seed()
    empty_appeal_tables(url)
    prefix = f"bench-{secrets.token_hex(4)}"  # external ids never repeat, even on a kept database
    print(
        f"appeal intake: {args.requests:,} appeals per side per run, {args.runs} runs; "
        f"database {urlsplit(url).path[1:]}; page {seeded.page_id}, integration token bound to its organisation"
    )
    print(f"machine: {machine_load()}")

    api_rates: list[float] = []
    bare_rates: list[float] = []
    extra_env = {"DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    with gunicorn_server(
        database_url=url, workers=args.workers, worker_class=args.worker_class, extra_env=extra_env
    ) as server:
        print(
            f"gunicorn {server.base_url}: {server.workers} {server.worker_class} workers; "
            f"{args.threads} client threads (http.client, keep-alive)"
        )
        preflight(server.base_url, seeded.token, seeded.page_id, prefix)
        # Warm-up: every worker imports its views, opens its connection and loads the policies and calendar.
        warm = 8 * args.threads
        run_side(server.base_url, seeded.token, API_PATH, make_bodies(seeded.page_id, warm, f"{prefix}-w", 5), 4)
        run_side(server.base_url, seeded.token, BARE_PATH, make_bodies(seeded.page_id, warm, f"{prefix}-wb", 6), 4)
        for run in range(1, args.runs + 1):
            api_bodies = make_bodies(seeded.page_id, args.requests, f"{prefix}-r{run}", 100 + run)
            bare_bodies = make_bodies(seeded.page_id, args.requests, f"{prefix}-b{run}", 200 + run)
            sides = [("api", API_PATH, api_bodies), ("bare", BARE_PATH, bare_bodies)]
            if run % 2 == 0:
                sides.reverse()  # alternate who goes first, so drift (autovacuum, table growth) hits both alike
            rates = {}
            for name, path, bodies in sides:
                rates[name] = run_side(server.base_url, seeded.token, path, bodies, args.threads)
            api_rates.append(rates["api"])
            bare_rates.append(rates["bare"])
            print(
                f"run {run} ({sides[0][0]} first): API {rates['api']:>7,.0f} appeals/s   "
                f"bare view {rates['bare']:>7,.0f} inserts/s   ratio {rates['api'] / rates['bare']:.1%}"
            )

    api, bare = statistics.median(api_rates), statistics.median(bare_rates)
    # The ratio of each round (its two sides ran back to back, under the same load), then their median: a
    # ratio of the two medians could pair a quiet round's API with a busy round's reference.
    ratio = statistics.median(a / b for a, b in zip(api_rates, bare_rates, strict=True))
    print(f"\nmedian of {args.runs} runs:")
    print(f"  API appeals/s:           {api:>8,.0f}")
    print(f"  bare view inserts/s:     {bare:>8,.0f}")
    print(f"  ratio API/bare:          {ratio:>8.1%}   (median of the rounds' ratios; of the medians {api / bare:.1%})")
    verdict = "met" if ratio >= TARGET_SHARE else "NOT met"
    print(f"target: API >= {TARGET_SHARE:.0%} of the bare view: {verdict}")
    print(f"machine after the runs: {machine_load()}")
    in_process_ratio(seeded.token, seeded.page_id, prefix)
    if args.profile == "always" or (args.profile == "auto" and ratio < TARGET_SHARE):
        profile_request_path(seeded.token, seeded.page_id, prefix, requests=200)
    empty_appeal_tables(url)
    release_bench_redis(chosen_redis)


if __name__ == "__main__":
    main()
