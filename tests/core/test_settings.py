"""Settings come from the environment and fail loudly: production needs its secrets, typos stop the start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def import_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    command = [sys.executable, "-c", code]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def test_production_refuses_to_start_without_a_secret_key():
    result = import_settings("config.settings.production", ALLOWED_HOSTS="otklik.example.ru")
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = import_settings("config.settings.production", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set in production" in result.stderr


def test_production_starts_with_its_secrets_and_debug_off():
    result = import_settings("config.settings.production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="otklik.example.ru")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_malformed_value_stops_the_start():
    result = import_settings("config.settings.local", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


PRODUCTION_SECRETS = {"SECRET_KEY": "k3y-" + "x9Q" * 20, "ALLOWED_HOSTS": "otklik.example.ru"}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Python in a fresh process, without any of the settings variables of this test run unless given."""
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    clean = {key: value for key, value in os.environ.items() if key not in unset and not key.startswith("SECURE_")}
    clean.update(env)
    command = [sys.executable, "-c", code]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def test_wsgi_without_a_settings_module_runs_production_settings_with_debug_off():
    code = "import config.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    result = run_python(code, **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


def test_the_celery_app_without_a_settings_module_defaults_to_production_too():
    code = "import os, config.celery_app; print(os.environ['DJANGO_SETTINGS_MODULE'])"
    result = run_python(code, **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config.settings.production"


def test_check_deploy_with_production_settings_reports_nothing():
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = run_python(code, DJANGO_SETTINGS_MODULE="config.settings.production", **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "issues" not in result.stderr


def test_production_redirects_to_https_but_healthz_answers_over_plain_http():
    code = (
        "import django; django.setup(); from django.test import Client; from django.test.utils import "
        "setup_test_environment; setup_test_environment(); client = Client(HTTP_HOST='otklik.example.ru'); "
        "print(client.get('/api/v1/').status_code, client.get('/healthz').status_code != 301, "
        "client.get('/api/v1/', HTTP_X_FORWARDED_PROTO='https').status_code)"
    )
    result = run_python(code, DJANGO_SETTINGS_MODULE="config.settings.production", **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["301", "True", "200"]
