"""What every benchmark shares: a PostgreSQL database of its own, Django set up as the server runs it, and the
machine's load printed next to the figures (the machine is shared, and other processes move them)."""

import os
import secrets
import sys
from urllib.parse import urlsplit, urlunsplit


def database_url_or_exit(default: str, why: str) -> str:
    """DATABASE_URL, or `default`; anything but PostgreSQL ends the run with `why`."""
    url = os.environ.get("DATABASE_URL", default)
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(f"{why} DATABASE_URL={url!r}; unset it to use {default}.")
    return url


def ensure_database(url: str) -> None:
    """Create the benchmark's database when missing, connecting to the server's `postgres` database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def setup_django(url: str, settings_module: str = "config.settings.production") -> None:
    """Django with the settings the gunicorn server runs, migrated: the in-process parts measure the same thing."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"


def production_redis() -> bool:
    """Use Redis for the cache and the broker as production does: REDIS_URL, or else the local server's database
    14 (emptied by `release_bench_redis`). Without one, say that the figures are not production's. True when the
    bench chose database 14 itself."""
    if os.environ.get("REDIS_URL"):
        print(f"Redis: {os.environ['REDIS_URL']} (cache and broker, as deployed)")
        return False
    import redis

    try:
        redis.Redis.from_url(BENCH_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        print(
            "REDIS_URL is not set and no Redis answers on 127.0.0.1:6379: the tasks go to the filesystem broker and "
            "the cache is per process, which is not what production measures."
        )
        return False
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    print(f"Redis: {BENCH_REDIS_URL} (cache and broker, as deployed; REDIS_URL was not set)")
    return True


def release_bench_redis(chosen: bool) -> None:
    """Empty the Redis database that `production_redis` chose (tasks nobody consumes, cached entries)."""
    if chosen:
        import redis

        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} over 1 min, {five:.1f} over 5 min"


def add_server_arguments(parser, *, threads: int) -> None:
    """The options of the benchmarks that drive the API under gunicorn."""
    parser.add_argument(
        "--threads", type=int, default=threads, help=f"client threads, one connection each (default {threads})"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync, as deployed)")
    parser.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="auto",
        help="profile the request path in-process: when the target is missed (auto, default), always or never",
    )
