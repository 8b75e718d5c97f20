"""The desk's queue at a million appeals: against the same queue at 10,000, and beside the API's list (issue 11).

    .venv/bin/python -m bench.desk_queue [--size 1000000] [--small-size 10000] [--rounds 7] [--requests 10] [--rebuild]

The data is bench.lists' (the same registry, templates and generator: a year of appeals over 89 regions and 2,000
organisations, a few % open), in two databases, otklik_desk_bench_<size> and otklik_desk_bench_<small size>, kept
between runs. For each persona (the busiest Moscow organisation's operator, the Moscow analyst, the federal
administrator) it requests, in process through Django's test client (production settings, DEBUG off):
- the desk's queue, first page: `/admin/appeals/appeal/` (open appeals, nearest stored deadline first), on the
  large and on the small database, a round on each in turn (the connection moves between them once a round);
- beside it on the large database, request by request alternating, the API's first page with the same scope,
  filter (open appeals) and order,
  `/api/v1/appeals/?ordering=due_at&status=new&status=in_progress&status=waiting&status=answered`.
Each round times `--requests` of each after a warm-up and takes the medians. The target is the queue's scale ratio,
the median at the large size over the median at the small one: at most 1.3 (a million appeals cost the queue
nothing it does not pay at ten thousand). The desk/API ratio is printed as a reference, not a target: it is the
fixed cost of an HTML page (sidebar, nine filters, the bulk-action form, fifty rows of markup) over a JSON list.
It prints each request's query count too. Benchmarks are not tests: this prints its figures and never fails on
timing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import warnings

from bench._appeals import Progress, bench_database_url, configure_django
from bench._common import machine_load

TARGET = 1.3  # the queue's median at --size over its median at --small-size
QUEUE = "/admin/appeals/appeal/"
# The scope's whole list (every status), nearest deadline first: fifty rows on a page at both sizes.
ALL = "/admin/appeals/appeal/?status=all"
# The same rows as the queue: its scope, its default filter (open appeals) and its order.
API = "/api/v1/appeals/?ordering=due_at&status=new&status=in_progress&status=waiting&status=answered"
PERSONAS = {"operator": "bench-operator", "analyst": "bench-analyst-moscow", "federation": "bench-admin"}


def prepare(url: str, size: int, rebuild: bool, progress: Progress) -> None:
    from bench import lists

    meta = lists.read_meta(url)
    if rebuild or meta is None or meta.get("version") != lists.META_VERSION or meta.get("size") != size:
        lists.build_small(url, size, progress)
    else:
        progress(f"reusing {lists.database_name(url)} (built {meta['now']}; --rebuild to build afresh)")
        lists.migrate_kept(url, progress)


def switch_to(url: str) -> None:
    """Point the connection at `url`'s database, and empty the cache (memberships are cached by user id, and the
    two databases' ids need not agree)."""
    from django.core.cache import cache

    from bench import lists

    lists.use_database(url)
    cache.clear()


def desk_client(url: str, username: str):
    """A signed-in test client for `url`'s database (the session lives there)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    switch_to(url)
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


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


def rows_on(client, path: str) -> int:
    response = client.get(path)
    return response.content.decode().count('name="_selected_action"')


def measure(username: str, large: str, small: str, args) -> dict:
    """Medians over rounds (ms) of the queue, the whole list and (large database only) the API, request by
    request alternating; a round on each database in turn."""
    from django.test import Client

    from bench import lists

    api = Client()
    api_headers = {"HTTP_AUTHORIZATION": f"Token {lists.token_for(username)}", "HTTP_ACCEPT": "application/json"}
    desks = {large: desk_client(large, username), small: desk_client(small, username)}
    rounds: dict[tuple[str, str], list[float]] = {}
    result: dict = {}
    for round_number in range(args.rounds):
        for url in (large, small) if round_number % 2 == 0 else (small, large):
            size = "large" if url == large else "small"
            switch_to(url)
            requests = [("queue", desks[url], QUEUE, {}), ("all", desks[url], ALL, {})]
            if url == large:
                requests.append(("api", api, API, api_headers))
            for _ in range(3):  # warm-up: the new connection, caches, the planner's statistics
                for _name, client, path, headers in requests:
                    timed(client, path, headers)
            times: dict[str, list[float]] = {name: [] for name, *_ in requests}
            for _ in range(args.requests):
                for name, client, path, headers in requests:
                    times[name].append(timed(client, path, headers))
            for name, values in times.items():
                rounds.setdefault((name, size), []).append(statistics.median(values))
            if round_number == 0:
                result["rows", "queue", size] = rows_on(desks[url], QUEUE)
                result["rows", "all", size] = rows_on(desks[url], ALL)
                if url == large:
                    result["queries"] = f"{query_count(desks[url], QUEUE, {})}/{query_count(api, API, api_headers)}"
    for key, values in rounds.items():
        result[key] = statistics.median(values) * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="appeals in the large database (default 1,000,000)")
    parser.add_argument("--small-size", type=int, default=10_000, help="appeals in the small one (default 10,000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, each giving a median (default 7)")
    parser.add_argument("--requests", type=int, default=10, help="timed requests of each per round (default 10)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases afresh")
    args = parser.parse_args()
    if args.small_size >= args.size:
        parser.error("--small-size must be below --size")

    from bench import lists

    progress = Progress()
    large = bench_database_url(f"otklik_desk_bench_{lists.size_label(args.size)}")
    small = bench_database_url(f"otklik_desk_bench_{lists.size_label(args.small_size)}")
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # Django's test client, in process
    configure_django(large)
    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    from config.celery_app import app as celery_app

    celery_app.conf.broker_url = "memory://localhost/"
    prepare(small, args.small_size, args.rebuild, progress)
    prepare(large, args.size, args.rebuild, progress)

    for url in (large, small):
        facts = lists.describe(url)
        print(
            f"{lists.database_name(url)}: {facts['total']:,} appeals ({facts['open']:,} open, "
            f"{facts['overdue']:,} overdue), table {facts['size']}"
        )
    print(f"machine: {machine_load()}")
    results = {persona: measure(username, large, small, args) for persona, username in PERSONAS.items()}

    print(f"\nscale: the scope's whole list ({ALL}), fifty rows at both sizes; target ≤ {TARGET}")
    print(f"{'persona':<11} {'rows':>7} {'1M ms':>8} {'small ms':>9} {'scale':>6}")
    for persona, result in results.items():
        scale = result["all", "large"] / result["all", "small"]
        verdict = "ok" if scale <= TARGET else "ABOVE TARGET"
        rows = f"{result['rows', 'all', 'large']}/{result['rows', 'all', 'small']}"
        print(
            f"{persona:<11} {rows:>7} {result['all', 'large']:>8.1f} {result['all', 'small']:>9.1f} "
            f"{scale:>5.2f}×  {verdict}"
        )
    print(f"\nthe queue ({QUEUE}: open appeals) and the API's list of the same rows (reference, no target)")
    print(
        f"{'persona':<11} {'queries q/api':>13} {'rows':>7} {'1M ms':>8} {'small ms':>9} {'API ms':>7} {'queue/API':>9}"
    )
    for persona, result in results.items():
        rows = f"{result['rows', 'queue', 'large']}/{result['rows', 'queue', 'small']}"
        print(
            f"{persona:<11} {result['queries']:>13} {rows:>7} {result['queue', 'large']:>8.1f} "
            f"{result['queue', 'small']:>9.1f} {result['api', 'large']:>7.1f} "
            f"{result['queue', 'large'] / result['api', 'large']:>8.2f}×"
        )
    print(f"machine after the runs: {machine_load()}")


if __name__ == "__main__":
    main()
