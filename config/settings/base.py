"""Settings shared by every environment. Values come from environment variables (see README)."""

import datetime as dt
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("OTKLIK_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "insecure-local-development-key-not-for-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A rejected form gets a Russian page (or the JSON shape under /api/), not Django's English one.
CSRF_FAILURE_VIEW = "core.errors.csrf_failure_view"

INSTALLED_APPS = [
    # The desk's look (django-unfold): before django.contrib.admin, whose templates it overrides.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "publics",
    "appeals",
    "connectors",
    "ratings",
    "exports",
    "desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project templates first: they override apps' ones (ReDoc's page without external fonts).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite when DATABASE_URL is unset, so `make run` needs no server. PostgreSQL in production and CI.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process, the worker and beat read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-axes first: it refuses a locked-out login before the password is even checked. Its backend needs the
# request: authenticate(request=..., ...) (tests log in with force_login or pass a request).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed password logins (admin, browsable API) are counted per user name and, separately, per address: either
# reaching AXES_FAILURE_LIMIT locks it out for AXES_COOLOFF_MINUTES. A locked name cannot be unlocked by an
# attacker's guess, and the cool-off bounds how long an attacker can keep a real user out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.authentication.lockout_response"  # core/templates/core/lockout.html
AXES_CLIENT_IP_CALLABLE = "core.authentication.client_ip"
# Its log names the user and the address of each failure (passwords are always masked): that is what an
# operator investigating an attack needs.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# Failed tokens per client address, in DRF's rate syntax: <count>/<s|min|hour|day> (core/authentication.py).
TOKEN_AUTH_FAILURE_RATE = env_str("TOKEN_AUTH_FAILURE_RATE", "20/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", TOKEN_AUTH_FAILURE_RATE):
    raise ImproperlyConfigured(f"TOKEN_AUTH_FAILURE_RATE={TOKEN_AUTH_FAILURE_RATE!r} is not <count>/<s|min|hour|day>.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Russian is what operators and analysts read; English stays available (Accept-Language: en).
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The operators' desk (django-unfold): the start page is desk.dashboard's; Django's change log is not shown (each
# appeal's page has its own timeline); no "view on site" (appeals have no public page of ours).
UNFOLD = {
    "SITE_TITLE": _("Otklik"),
    "SITE_HEADER": _("Otklik"),
    "SITE_SUBHEADER": _("Operators' desk"),
    "SITE_URL": "/admin/",
    "SITE_SYMBOL": "forum",
    "SHOW_HISTORY": False,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "desk.dashboard.dashboard_callback",
    "STYLES": ["desk.dashboard.styles"],
    "SIDEBAR": {"show_search": False, "show_all_applications": False, "navigation": "desk.dashboard.sidebar"},
}

# Signing in on the desk's login page (which posts no `next`) leads to the desk, not to Django's profile URL.
LOGIN_REDIRECT_URL = "/admin/"

# Uploaded and generated files (export jobs' files) in Django's default storage: a local folder unless
# STORAGES["default"] is set to another backend.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Export jobs keep their file this long, then the periodic task deletes it.
EXPORTS_FILE_TTL_SECONDS = env_int("EXPORTS_FILE_TTL_SECONDS", 24 * 60 * 60)
EXPORTS_STORAGE_PREFIX = "exports/"

# Lists count exactly up to this many rows; above it the count is the planner's estimate (core.pagination).
EXACT_COUNT_CAP = env_int("EXACT_COUNT_CAP", 10_000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # DRF's three defaults, with our JSON parser (bounded nesting, messages in the request's language).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.filters.StrictOrderingFilter",  # 400 for an unknown field, allowed values in the schema
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": False,
    # Proxies in front that append to X-Forwarded-For; 0 trusts REMOTE_ADDR only (a client cannot forge its
    # address for the token throttle and django-axes, see core.authentication.client_ip).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Otklik API",
    "DESCRIPTION": (
        "Case management for citizens' appeals to the official public pages of Russian state bodies. "
        "Authenticate with `Authorization: Token <key>`. Every error has one shape: see the `Error` schema."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc assets served by the app (drf-spectacular-sidecar), not from a CDN: the docs work on
    # closed government networks and offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, so clients see one `StatusEnum` and not a collision-resolved variant per field.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "publics.models.OrganizationKind",
        "PlatformEnum": "publics.models.Platform",
        "PageCategoryEnum": "publics.models.PageCategory",
        "RoleEnum": "publics.models.Role",
        "AppealKindEnum": "appeals.models.AppealKind",
        "ChannelEnum": "appeals.models.Channel",
        "PriorityEnum": "appeals.models.Priority",
        "StatusEnum": "appeals.models.Status",
        "SlaStateEnum": "appeals.models.SlaState",
        "UnitEnum": "appeals.models.Unit",
        "ExportKindEnum": "exports.models.ExportKind",
        "ExportFormatEnum": "exports.models.ExportFormat",
        "ExportJobStatusEnum": "exports.models.JobStatus",
        "RejectReasonEnum": "appeals.models.RejectReason",
        "EventActionEnum": "appeals.models.EventAction",
        "ReplyKindEnum": "appeals.models.ReplyKind",
        "OverrideKindEnum": "appeals.models.OverrideKind",
    },
    "TAGS": [
        {"name": "regions", "description": "The 89 federal subjects: reference data."},
        {"name": "organizations", "description": "State bodies and their subordinate organisations."},
        {"name": "pages", "description": "Official public pages (VK, OK, MAX, Telegram)."},
        {"name": "audience", "description": "Subscriber counts of pages by date."},
        {"name": "imports", "description": "Bulk onboarding of organisations and pages from CSV."},
        {"name": "me", "description": "The caller's roles and scopes."},
        {"name": "dashboards", "description": "SLA measures from the rollups, in the caller's scope; CSV too."},
        {"name": "ratings", "description": "Reach and responsiveness ratings, stored snapshots, publishing."},
        {"name": "open-data", "description": "Published rating snapshots, readable without login."},
        {"name": "exports", "description": "Overdue-appeal lists as of any moment (CSV, XLSX), jobs, the export log."},
        {"name": "open311", "description": "A read-only Open311 GeoReport v2 view of appeals."},
    ],
}

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, an embedded broker that needs
# no server and still lets a separate worker and beat exchange messages through a folder.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The one place where periodic jobs are scheduled.
CELERY_BEAT_SCHEDULE: dict = {
    "appeals-sla-sweep": {
        "task": "appeals.tasks.sla_sweep",
        "schedule": env_int("SLA_SWEEP_SECONDS", 60),
    },
    # Work a broker outage kept in the transactional outbox (core.outbox).
    "core-outbox-drain": {
        "task": "core.tasks.outbox_drain",
        "schedule": env_int("OUTBOX_DRAIN_SECONDS", 60),
    },
    # Rollups: re-roll whatever the on-commit path missed, from the history past a watermark (ratings.services).
    "ratings-rollups-catch-up": {
        "task": "ratings.tasks.rollups_catch_up",
        "schedule": env_int("ROLLUPS_CATCH_UP_SECONDS", 60),
    },
    # Export files past their time (exports.services.export_files_expire).
    "exports-expire-files": {
        "task": "exports.tasks.expire_files",
        "schedule": env_int("EXPORTS_EXPIRE_SECONDS", 15 * 60),
    },
    # The default rating snapshots (MAX reach of regional governments, regions' responsiveness), once a day.
    "ratings-store-default-snapshots": {
        "task": "ratings.tasks.store_default_ratings",
        "schedule": 24 * 60 * 60,
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "otklik@localhost")
# The address people open the site at: e-mails link to the desk with it (they have no request to build one from).
OTKLIK_PUBLIC_URL = env_str("OTKLIK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
if not OTKLIK_PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"OTKLIK_PUBLIC_URL={OTKLIK_PUBLIC_URL!r} must start with http:// or https://.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Failed logins and lockouts are security events: shown whatever LOG_LEVEL says.
    "loggers": {"axes": {"level": "INFO"}, "core.authentication": {"level": "WARNING"}},
}

# Size caps of the API (documented in README).
AUDIENCE_BULK_MAX = 1000
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

# Platform connectors (connectors app, README "Platform connectors"). Outgoing calls' base URLs (tests point
# them at a fake platform on 127.0.0.1), their timeout, the webhook body limit, queues and periodic jobs.
VK_API_BASE_URL = env_str("VK_API_BASE_URL", "https://api.vk.com/method")
MAX_API_BASE_URL = env_str("MAX_API_BASE_URL", "https://platform-api2.max.ru")
TELEGRAM_API_BASE_URL = env_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
CONNECTOR_TIMEOUT_SECONDS = env_int("CONNECTOR_TIMEOUT_SECONDS", 10)
WEBHOOK_MAX_BYTES = 1024 * 1024
MAX_COMMENTS_POLL_POSTS = env_int("MAX_COMMENTS_POLL_POSTS", 10)
CELERY_TASK_ROUTES = {
    "connectors.tasks.process_event": {"queue": "webhooks"},
    "connectors.tasks.deliver_reply": {"queue": "deliveries"},
}
CELERY_BEAT_SCHEDULE |= {
    "connectors-pick-up-events": {"task": "connectors.tasks.pick_up_events", "schedule": 60},
    "connectors-pick-up-deliveries": {"task": "connectors.tasks.pick_up_deliveries", "schedule": 30},
    "connectors-poll-max-comments": {
        "task": "connectors.tasks.poll_max_comments",
        "schedule": env_int("MAX_COMMENTS_POLL_SECONDS", 300),
    },
}
# The platforms' webhooks are a plain Django view: described in the schema by a hook (connectors/schema.py).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "connectors.schema.add_webhooks",
]
SPECTACULAR_SETTINGS["TAGS"].append(
    {"name": "connectors", "description": "Platform webhooks in, replies' deliveries out, raw platform events."}
)
