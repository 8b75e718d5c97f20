"""The desk's queue at a million appeals, against the API's list with the same scope, in the same run (issue 11).

    .venv/bin/python -m bench.desk_queue [--size 1000000] [--rounds 7] [--requests 10] [--rebuild]

The data is bench.lists' (the same registry, templates and generator: a year of appeals over 89 regions and 2,000
organisations, a few % open), in its own database otklik_desk_bench_<size>, kept between runs. For each persona
(the busiest Moscow organisation's operator, the Moscow analyst, the federal administrator) it requests, in
process through Django's test client (production settings, DEBUG off), alternating request by request:
- the desk's queue, first page: `/admin/appeals/appeal/` (open appeals, nearest stored deadline first);
- the reference: the API's first page with the same scope, filter (open appeals) and order,
  `/api/v1/appeals/?ordering=due_at&status=new&status=in_progress&status=waiting&status=answered`.
Each round times `--requests` of each after a warm-up and takes the medians; it prints the median over rounds of
each, their ratio against the target 1.5, and each request's query count.
Benchmarks are not tests: this prints its figures and target and never fails on timing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import warnings

from bench._appeals import Progress, bench_database_url, configure_django

TARGET = 1.5
QUEUE = "/admin/appeals/appeal/"
# The same rows as the queue: its scope, its default filter (open appeals) and its order.
API = "/api/v1/appeals/?ordering=due_at&status=new&status=in_progress&status=waiting&status=answered"
PERSONAS = {"operator": "bench-operator", "analyst": "bench-analyst-moscow", "federation": "bench-admin"}


def prepare(url: str, size: int, rebuild: bool, progress: Progress) -> None:
    from bench import lists

    meta = lists.read_meta(url)
    if rebuild or meta is None or meta.get("version") != lists.META_VERSION or meta.get("size") != size:
        lists.build_small(url, size, progress)
    else:
        progress(f"reusing the kept database (built {meta['now']}; --rebuild to build afresh)")
        lists.migrate_kept(url, progress)


def timed(client, path: str, headers: dict[str, str]) -> float:
    began = time.perf_counter()
    response = client.get(path, **headers)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def query_count(client, path: str, headers: dict[str, str]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path, **headers)
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="appeals in the database (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, each giving a median (default 7)")
    parser.add_argument("--requests", type=int, default=10, help="timed requests of each per round (default 10)")
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    args = parser.parse_args()

    from bench import lists

    progress = Progress()
    url = bench_database_url(f"otklik_desk_bench_{lists.size_label(args.size)}")
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # Django's test client, in process
    configure_django(url)
    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    from config.celery_app import app as celery_app

    celery_app.conf.broker_url = "memory://localhost/"
    prepare(url, args.size, args.rebuild, progress)

    from django.contrib.auth import get_user_model
    from django.test import Client

    facts = lists.describe(url)
    print(f"\n{facts['total']:,} appeals ({facts['open']:,} open, {facts['overdue']:,} overdue), table {facts['size']}")
    print(
        f"{'persona':<11} {'queries q/api':>13} {'desk queue ms':>14} {'API list ms':>12} {'ratio':>7}  target ≤ {TARGET}"
    )
    for persona, username in PERSONAS.items():
        user = get_user_model().objects.get(username=username)
        desk = Client()
        desk.force_login(user)
        api = Client()
        api_headers = {"HTTP_AUTHORIZATION": f"Token {lists.token_for(username)}", "HTTP_ACCEPT": "application/json"}
        for _ in range(3):  # warm-up: connections, caches, the planner's statistics
            timed(desk, QUEUE, {})
            timed(api, API, api_headers)
        rounds_desk, rounds_api = [], []
        for _ in range(args.rounds):
            desk_times, api_times = [], []
            for _ in range(args.requests):
                desk_times.append(timed(desk, QUEUE, {}))
                api_times.append(timed(api, API, api_headers))
            rounds_desk.append(statistics.median(desk_times))
            rounds_api.append(statistics.median(api_times))
        desk_ms, api_ms = statistics.median(rounds_desk) * 1000, statistics.median(rounds_api) * 1000
        queries = f"{query_count(desk, QUEUE, {})}/{query_count(api, API, api_headers)}"
        verdict = "ok" if desk_ms / api_ms <= TARGET else "ABOVE TARGET"
        print(f"{persona:<11} {queries:>13} {desk_ms:>14.1f} {api_ms:>12.1f} {desk_ms / api_ms:>6.2f}×  {verdict}")


if __name__ == "__main__":
    main()
