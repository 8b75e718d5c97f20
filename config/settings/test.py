"""Tests: PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, SQLite and no broker otherwise."""

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run inline once the test's transaction commits (captured with django_capture_on_commit_callbacks).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LANGUAGE_CODE = "ru"
# WhiteNoise wants the collected folder; tests do not collect static files.
WHITENOISE_AUTOREFRESH = True
