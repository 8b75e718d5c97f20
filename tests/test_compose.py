"""docker-compose.yml, the Dockerfile and .env.example, checked without Docker: structure and agreement."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "worker-deliveries", "beat")
# Every way config/ reads a variable: the env helpers of config/settings/env.py and os.environ itself.
_READ = re.compile(
    r"""(?:env_(?:str|bool|int|list)\(|os\.environ(?:\.get|\.setdefault)?[\[(])\s*["']([A-Z][A-Z0-9_]*)["']"""
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def _variables_read(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in _READ.findall(path.read_text(encoding="utf-8"))}


def _env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.lstrip().startswith("#")}


def test_compose_has_postgres_redis_and_the_app_services(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", *APP_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_replies_to_the_platforms_have_a_worker_of_their_own(compose):
    services = compose["services"]
    assert "-Q deliveries" in _command(services["worker-deliveries"])
    assert "-Q celery,webhooks" in _command(services["worker"])


def test_web_worker_and_beat_run_one_image_built_from_the_dockerfile(compose):
    services = compose["services"]
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    builds = {str(services[name]["build"]) for name in APP_SERVICES}
    assert builds == {"."}
    assert (ROOT / "Dockerfile").is_file()


def test_every_service_has_a_health_check_and_web_checks_healthz(compose):
    for name, service in compose["services"].items():
        if name == "migrate":  # one shot: the others wait for it to complete, not to be healthy
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_app_services_read_env_file_and_wait_for_healthy_dependencies(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        env_file = services[name]["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file), name
        depends_on = services[name]["depends_on"]
        assert {"postgres", "redis"} <= set(depends_on), name
        waits = {dependency: condition["condition"] for dependency, condition in depends_on.items()}
        assert all(
            condition == ("service_completed_successfully" if dependency == "migrate" else "service_healthy")
            for dependency, condition in waits.items()
        ), name
    # Worker and beat start after web has migrated the database.
    for name in ("worker", "beat"):
        assert "web" in services[name]["depends_on"]


def test_commands_run_gunicorn_after_migrate_and_celery_worker_and_beat(compose):
    services = compose["services"]
    web = _command(services["web"])
    assert web.startswith("gunicorn config.wsgi")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    migrate = _command(services["migrate"])
    assert migrate.index("manage.py migrate") < migrate.index("manage.py grant_app_role otklik_app")
    assert "celery -A config.celery_app worker" in _command(services["worker"])
    assert "celery -A config.celery_app beat" in _command(services["beat"])


def test_dockerfile_builds_a_slim_non_root_image_with_static_files_and_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "gunicorn" in dockerfile.split("CMD", 1)[1]


def test_env_example_names_only_variables_the_settings_read_and_all_of_them():
    settings_read = _variables_read(sorted((ROOT / "config" / "settings").glob("*.py")))
    # DJANGO_SETTINGS_MODULE is read before any settings module: by manage.py and config's entry points.
    entry_points_read = _variables_read([ROOT / "manage.py", *sorted((ROOT / "config").glob("*.py"))])
    documented = _env_example()
    assert "DJANGO_SETTINGS_MODULE" in entry_points_read
    assert documented - settings_read - {"DJANGO_SETTINGS_MODULE"} == set(), "in .env.example but read nowhere"
    assert settings_read - documented == set(), "read by config/settings but missing from .env.example"


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {name for name in _env_example() if f"`{name}`" not in readme} == set()


def test_gunicorn_runs_with_its_config_file_and_explicit_request_limits(compose):
    import runpy

    web = _command(compose["services"]["web"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--config config/gunicorn.py" in web
    assert '"--config", "config/gunicorn.py"' in dockerfile.split("CMD", 1)[1]
    assert "gunicorn.py" in (ROOT / "bench" / "_server.py").read_text(encoding="utf-8")
    limits = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert {name: limits[name] for name in ("limit_request_line", "limit_request_fields", "limit_request_field_size")}


def test_migrations_run_as_the_owner_and_the_application_as_a_role_that_owns_nothing(compose):
    services = compose["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith(f"postgres://{owner}:")
    env = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "DATABASE_URL=postgres://otklik_app:" in env
    init = (ROOT / "docker" / "postgres-init" / "10-app-role.sql").read_text(encoding="utf-8")
    assert "CREATE ROLE otklik_app LOGIN" in init and "NOSUPERUSER" in init
