"""Platform webhooks under gunicorn against a bare DRF view doing one INSERT, and the processing of stored events.

    .venv/bin/python -m bench.webhooks [--requests 2000] [--runs 5] [--threads 8] [--workers 2]
                                       [--worker-class sync] [--events 1000]

Part 1, under gunicorn: `POST /api/v1/webhooks/vk/{page}/` with VK Callback API deliveries (`wall_reply_new`,
each a new `event_id`) from concurrent clients: size check, the page, the secret, one INSERT of the raw event,
the processing task sent to the broker after commit, the plain `ok`. Reference in the same run and the same
server: `POST /bench/bare-insert/` (bench/bare_urls.py, the reference of bench.appeal_create), a DRF view doing
one INSERT. Rounds alternate which side goes first; per side the requests/s and the p50/p99 latency are printed,
and the median of the rounds' ratios. Target: webhooks >= 60% of the bare view's requests/s.

Part 2, in process: the stored events of part 1 processed into appeals by one worker, one after the other
(`connectors.services.event_process`, as the Celery task runs it), events/s; reference: the same appeals taken in
by calling the intake service directly (`appeals.services.appeal_create`), which processing wraps.

Needs PostgreSQL (DATABASE_URL, default postgres://root@127.0.0.1:5432/otklik_bench) and should have a Redis
broker (REDIS_URL; unset, the local server's database 14 is used and emptied after the run): without one
Celery's filesystem transport writes a file per task, which is not what production measures. The tasks sent land on the `webhooks` queue, which no worker consumes here; the queue is
purged after the run. The appeal and connector tables are emptied before and after (bench databases only).
Benchmarks are not tests: this prints its figures and the target, and never fails on timing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench._common import (
    database_url_or_exit,
    ensure_database,
    machine_load,
    production_redis,
    release_bench_redis,
    setup_django,
)

TARGET_SHARE = 0.60
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/otklik_bench"
BARE_PATH = "/bench/bare-insert/"
GROUP_ID = 218_999_001
SECRET = "bench-webhook-secret"


@dataclass(frozen=True)
class Seed:
    page_id: int
    token: str


def seed() -> Seed:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from publics.models import Membership, Organization, Page, Region, Role

    organization, _ = Organization.objects.get_or_create(
        name="bench-webhooks-organization",
        defaults={"kind": "regional_government", "region": Region.objects.get(code="RU-MOW")},
    )
    page, _ = Page.objects.update_or_create(
        platform="vk",
        platform_id=str(GROUP_ID),
        defaults={"organization": organization, "title": "Бенчмарк вебхуков", "webhook_secret": SECRET},
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-webhooks-integration")
    Membership.objects.get_or_create(user=user, role=Role.INTEGRATION, organization=organization)
    token, _ = Token.objects.get_or_create(user=user)
    return Seed(page_id=page.pk, token=token.key)


def empty_tables(url: str) -> None:
    from django.db import connection

    if "bench" not in urlsplit(url).path:
        print("  (the database name has no 'bench' in it: tables left as they are)")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE connectors_delivery, connectors_appealsource, connectors_platformevent, "
            "appeals_appealevent, appeals_reply, appeals_appeal CASCADE"
        )


def purge_queue() -> None:
    from celery import current_app

    try:
        with current_app.connection_for_write() as connection:
            connection.default_channel.queue_purge("webhooks")
    except Exception as exc:  # nothing to purge, or no broker: say so and go on
        print(f"  (webhooks queue not purged: {exc})")


def webhook_bodies(count: int, prefix: str) -> list[bytes]:
    """VK deliveries of new comments, as VK sends them (API 5.199)."""
    now = int(time.time()) - 60
    bodies = []
    for index in range(count):
        payload = {
            "type": "wall_reply_new",
            "event_id": f"{prefix}-{index}",
            "v": "5.199",
            "object": {
                "id": 10_000_000 + index,
                "from_id": 100_000 + index % 5000,
                "date": now,
                "text": "Во дворе дома 12 по улице Строителей неделю не вывозят мусор, контейнеры переполнены.",
                "post_id": 42,
                "owner_id": -GROUP_ID,
                "parents_stack": [],
                "thread": {"count": 0, "items": [], "can_post": True},
            },
            "group_id": GROUP_ID,
            "secret": SECRET,
        }
        bodies.append(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    return bodies


def bare_bodies(page_id: int, count: int, prefix: str) -> list[bytes]:
    received = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    text = "Во дворе дома 12 по улице Строителей неделю не вывозят мусор, контейнеры переполнены."
    return [
        json.dumps(
            {
                "page": page_id,
                "external_id": f"{prefix}-{i}",
                "channel": "comment",
                "text": text,
                "received_at": received,
            },
            ensure_ascii=False,
        ).encode()
        for i in range(count)
    ]


def run_side(base_url: str, path: str, bodies: list[bytes], threads: int, headers: dict[str, str], expect: int):
    """POST every body from `threads` clients: (requests/s over the wall time, latencies in ms)."""
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    errors: list[str] = []
    latencies: list[float] = []
    parts = urlsplit(base_url)

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        own: list[float] = []
        try:
            while not errors:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                started = time.perf_counter()
                for attempt in (1, 2):
                    try:
                        connection.request("POST", path, body=bodies[index], headers=headers)
                        response = connection.getresponse()
                        payload = response.read()
                        break
                    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                        connection.close()  # a sync worker closed the keep-alive connection: reconnect once
                        if attempt == 2:
                            raise
                own.append((time.perf_counter() - started) * 1000)
                if response.status != expect:
                    errors.append(f"{path} #{index}: HTTP {response.status} {payload[:300]!r}")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
            with lock:
                latencies.extend(own)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError("a request failed: " + "; ".join(errors[:3]))
    return len(bodies) / elapsed, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def processing_rate(page_id: int, limit: int) -> None:
    """Part 2: stored events into appeals by one worker, against the intake service called directly."""
    import datetime as dt

    from django.utils import timezone

    from appeals.services import AppealInput, appeal_create
    from connectors import services
    from connectors.models import PlatformEvent
    from core.access import SYSTEM
    from publics.models import Page

    ids = list(
        PlatformEvent.objects.filter(page_id=page_id, status="received")
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    if len(ids) < limit:
        print(f"\nprocessing: only {len(ids)} stored events, {limit} needed; skipped")
        return
    started = time.perf_counter()
    for event_id in ids[:limit]:
        services.event_process(event_id=event_id)
    events_per_second = limit / (time.perf_counter() - started)
    page = Page.objects.select_related("organization__region").get(pk=page_id)
    received = timezone.now() - dt.timedelta(minutes=1)
    inputs = [
        AppealInput(
            kind="message",
            channel="comment",
            text="Во дворе дома 12 по улице Строителей неделю не вывозят мусор.",
            received_at=received,
            external_id=f"direct-{secrets.token_hex(6)}-{n}",
            author_platform_id=str(100_000 + n),
        )
        for n in range(limit)
    ]
    started = time.perf_counter()
    for data in inputs:
        appeal_create(actor=SYSTEM, page=page, data=data)
    direct_per_second = limit / (time.perf_counter() - started)
    done = PlatformEvent.objects.filter(pk__in=ids[:limit], status="processed").count()
    print(f"\nprocessing by one worker, {limit} stored events ({done} processed into appeals):")
    print(f"  events/s:                      {events_per_second:>8,.0f}")
    print(f"  intake service called directly: {direct_per_second:>7,.0f} appeals/s (reference)")
    print(f"  ratio:                         {events_per_second / direct_per_second:>8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="deliveries per side per run (default 2,000)")
    parser.add_argument("--runs", type=int, default=5, help="alternating webhook/bare runs; medians (default 5)")
    parser.add_argument("--threads", type=int, default=8, help="client threads, one connection each (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync, as deployed)")
    parser.add_argument("--events", type=int, default=1000, help="stored events processed in part 2 (default 1,000)")
    args = parser.parse_args()

    url = database_url_or_exit(DEFAULT_DATABASE_URL, "bench.webhooks needs PostgreSQL.")
    chosen_redis = production_redis()
    ensure_database(url)
    setup_django(url, settings_module="bench.settings_bench")
    from bench._server import gunicorn_server

    seeded = seed()
    empty_tables(url)
    prefix = f"bench-{secrets.token_hex(4)}"
    print(
        f"webhooks: {args.requests:,} deliveries per side per run, {args.runs} runs; database {urlsplit(url).path[1:]}"
    )
    print(f"machine: {machine_load()}")
    webhook_path = f"/api/v1/webhooks/vk/{seeded.page_id}/"
    json_headers = {"Content-Type": "application/json"}
    bare_headers = {**json_headers, "Authorization": f"Token {seeded.token}"}
    rounds: list[tuple[float, float]] = []
    hook_latencies: list[float] = []
    bare_latencies: list[float] = []
    extra_env = {"DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    with gunicorn_server(
        database_url=url, workers=args.workers, worker_class=args.worker_class, extra_env=extra_env
    ) as server:
        print(
            f"gunicorn {server.base_url}: {server.workers} {server.worker_class} workers; {args.threads} client threads"
        )
        warm = 8 * args.threads
        run_side(server.base_url, webhook_path, webhook_bodies(warm, f"{prefix}-w"), 4, json_headers, 200)
        run_side(server.base_url, BARE_PATH, bare_bodies(seeded.page_id, warm, f"{prefix}-wb"), 4, bare_headers, 201)
        for run in range(1, args.runs + 1):
            sides = [
                ("webhooks", webhook_path, webhook_bodies(args.requests, f"{prefix}-r{run}"), json_headers, 200),
                ("bare", BARE_PATH, bare_bodies(seeded.page_id, args.requests, f"{prefix}-b{run}"), bare_headers, 201),
            ]
            if run % 2 == 0:
                sides.reverse()
            rates = {}
            for name, path, bodies, headers, expect in sides:
                rates[name], latencies = run_side(server.base_url, path, bodies, args.threads, headers, expect)
                (hook_latencies if name == "webhooks" else bare_latencies).extend(latencies)
            rounds.append((rates["webhooks"], rates["bare"]))
            print(
                f"run {run} ({sides[0][0]} first): webhooks {rates['webhooks']:>7,.0f}/s   "
                f"bare view {rates['bare']:>7,.0f}/s   ratio {rates['webhooks'] / rates['bare']:.1%}"
            )
    hooks = statistics.median(r[0] for r in rounds)
    bare = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(h / b for h, b in rounds)
    print(f"\nmedian of {args.runs} runs:")
    print(
        f"  webhook deliveries/s: {hooks:>8,.0f}   p50 {percentile(hook_latencies, 0.5):6.2f} ms   "
        f"p99 {percentile(hook_latencies, 0.99):6.2f} ms"
    )
    print(
        f"  bare view inserts/s:  {bare:>8,.0f}   p50 {percentile(bare_latencies, 0.5):6.2f} ms   "
        f"p99 {percentile(bare_latencies, 0.99):6.2f} ms"
    )
    print(f"  ratio webhooks/bare:  {ratio:>8.1%}   (median of the rounds' ratios)")
    print(f"target: webhooks >= {TARGET_SHARE:.0%} of the bare view: {'met' if ratio >= TARGET_SHARE else 'NOT met'}")
    print(f"machine after the runs: {machine_load()}")
    purge_queue()
    processing_rate(seeded.page_id, args.events)
    empty_tables(url)
    release_bench_redis(chosen_redis)


if __name__ == "__main__":
    main()
