"""Django settings for liqsite, read from environment variables.

Defaults give an embedded set-up that needs no servers (SQLite under ``var/``,
a filesystem Celery broker, an in-memory cache). ``DATABASE_URL``,
``CELERY_BROKER_URL`` and ``CACHE_URL`` point it at PostgreSQL and Redis.
``LIQSITE_ENV=production`` turns on the checks and protections a public
deployment needs and requires the secrets to be given, never generated.
See README.md for every variable.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from liqsite.env import Env, EnvError, database_from_url

env = Env.from_os()

BASE_DIR = Path(__file__).resolve().parent.parent
LIQSITE_ENV = env.choice("LIQSITE_ENV", ("local", "production"), "local")
PRODUCTION = LIQSITE_ENV == "production"
VAR_DIR = env.directory("LIQSITE_VAR_DIR", BASE_DIR / "var", create=not PRODUCTION)

DEBUG = env.bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise EnvError("DEBUG", "must be off when LIQSITE_ENV=production")


def _local_secret_key() -> str:
    """A random key kept in var/ so sessions survive restarts of a local run."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", required=PRODUCTION) or _local_secret_key()
if PRODUCTION and len(SECRET_KEY) < 50:
    raise EnvError("SECRET_KEY", "must be at least 50 characters in production")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", () if PRODUCTION else ("localhost", "127.0.0.1", "[::1]", "testserver"))
if PRODUCTION and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS", "is required in production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
SITE_URL = (env.url("SITE_URL", ("http", "https")) or "http://127.0.0.1:8000").rstrip("/")

# Behind a reverse proxy REMOTE_ADDR is the proxy's address. LIQSITE_PROXY_HEADER
# names the header the proxy puts the client's address in; it is believed only on
# requests that come from LIQSITE_TRUSTED_PROXIES, so a client reaching the app
# directly cannot pick its own address (see liqsite/accounts/client_address.py).
LIQSITE_PROXY_HEADER = env.header("LIQSITE_PROXY_HEADER")
LIQSITE_TRUSTED_PROXIES = env.networks("LIQSITE_TRUSTED_PROXIES")
if LIQSITE_PROXY_HEADER and not LIQSITE_TRUSTED_PROXIES:
    raise EnvError("LIQSITE_TRUSTED_PROXIES", "is required with LIQSITE_PROXY_HEADER (the proxies' addresses, e.g. 127.0.0.1)")
if LIQSITE_TRUSTED_PROXIES and not LIQSITE_PROXY_HEADER:
    raise EnvError("LIQSITE_PROXY_HEADER", "is required with LIQSITE_TRUSTED_PROXIES (e.g. X-Forwarded-For)")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "markets",
    "grids",
    "accuracy",
    "heatmaps",
    "alerts",
    "liqsite.outbox",
    "liqsite.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "liqsite.nul_bytes.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files come pre-compressed), before everything that writes the body.
    "liqsite.compression.CompressionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "liqsite.urls"
WSGI_APPLICATION = "liqsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", env.url("DATABASE_URL", ("postgres", "postgresql", "sqlite")), VAR_DIR / "liqsite.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# How long a web request waits for a locked SQLite database before the 503 page (applied in liqsite/wsgi.py).
LIQSITE_REQUEST_DB_WAIT_SECONDS = 1.0

_cache_url = env.url("CACHE_URL", ("redis", "rediss"))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url, "KEY_PREFIX": "liqsite"}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "liqsite"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Local runs serve static files straight from the apps (no collectstatic needed);
# production serves the collected, hashed and compressed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Email --------------------------------------------------------------------
# With EMAIL_HOST set, mail goes out over SMTP. Without it (the local default)
# Django's file-based backend writes each message as a file under var/mail/, so
# a local run works offline and the alert and password-reset mails can be read
# there. Sending always happens in a Celery task from the outbox (alerts app).
EMAIL_HOST = env.str("EMAIL_HOST")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise EnvError("EMAIL_USE_SSL", "cannot be on together with EMAIL_USE_TLS (SSL on connect for port 465, or STARTTLS for 587)")
EMAIL_PORT = env.int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "liqsite <liqsite@localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_HOST = "localhost"
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Celery -------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: messages
# are files under var/celery, so a local worker and beat need no server. It runs
# through liqsite.broker, which keeps taken-but-unacknowledged messages on disk
# so that a killed worker's task goes back on the queue, as Redis does.
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", ("redis", "rediss", "amqp", "filesystem")) or "filesystem://"
CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL == "filesystem://":
    for folder in ("queue", "processed", "claims", "control"):
        (CELERY_QUEUE_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "liqsite.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "claims_folder": str(CELERY_QUEUE_DIR / "claims"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),  # exchange bindings (kombu's default is ./control)
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A broker that is down fails a publish within seconds rather than hanging
    # the request that queued it (liqsite.tasks logs it; a periodic job redoes it).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge a task once it has finished and hand it to another worker when
# its worker dies mid-task: every task is idempotent (liqsite/tasks.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# How often beat fans out a refresh of every active market (seconds).
LIQSITE_REFRESH_SECONDS = env.int("LIQSITE_REFRESH_SECONDS", 300, minimum=10)
# Stop a refresh run that has not finished in this long (seconds); the worker
# moves on to the next market instead of hanging on one exchange.
LIQSITE_REFRESH_TIME_LIMIT = env.int("LIQSITE_REFRESH_TIME_LIMIT", 600, minimum=30)
# How often beat backtests each active market and refreshes its accuracy page (seconds; daily by default).
LIQSITE_ACCURACY_SECONDS = env.int("LIQSITE_ACCURACY_SECONDS", 86400, minimum=600)
# Stop one market's backtest that has not finished in this long (seconds).
LIQSITE_ACCURACY_TIME_LIMIT = env.int("LIQSITE_ACCURACY_TIME_LIMIT", 1800, minimum=60)
# How often beat re-queues failed alert emails still under their attempt limit (seconds).
LIQSITE_OUTBOX_SWEEP_SECONDS = env.int("LIQSITE_OUTBOX_SWEEP_SECONDS", 300, minimum=10)
# No task runs longer than this (seconds): the worker kills it and moves on.
LIQSITE_TASK_TIME_LIMIT = env.int("LIQSITE_TASK_TIME_LIMIT", 3600, minimum=60)
if LIQSITE_TASK_TIME_LIMIT <= max(LIQSITE_REFRESH_TIME_LIMIT, LIQSITE_ACCURACY_TIME_LIMIT):
    raise EnvError("LIQSITE_TASK_TIME_LIMIT", "must be longer than LIQSITE_REFRESH_TIME_LIMIT and LIQSITE_ACCURACY_TIME_LIMIT")
CELERY_TASK_TIME_LIMIT = LIQSITE_TASK_TIME_LIMIT
# A task taken but not acknowledged for this long goes back on the queue for
# another worker (Redis and the embedded broker alike). It must be longer than
# any task may run, or a slow task would run twice; also longer than the longest
# retry countdown (an hour, the outbox), since a worker holds a delayed task unacknowledged.
LIQSITE_BROKER_VISIBILITY_TIMEOUT = env.int("LIQSITE_BROKER_VISIBILITY_TIMEOUT", 2 * LIQSITE_TASK_TIME_LIMIT, minimum=3601)
if LIQSITE_BROKER_VISIBILITY_TIMEOUT <= LIQSITE_TASK_TIME_LIMIT:
    raise EnvError(
        "LIQSITE_BROKER_VISIBILITY_TIMEOUT", "must be longer than LIQSITE_TASK_TIME_LIMIT (the longest a task may run)"
    )
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = LIQSITE_BROKER_VISIBILITY_TIMEOUT

# --- Production hardening (``manage.py check --deploy`` is clean with these) ---
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")},
    "filters": {"without_traceback": {"()": "liqsite.log_filters.WithoutTraceback"}},
    # A request naming a host not in ALLOWED_HOSTS is a scanner, not a fault: one line, no traceback.
    "loggers": {
        "django.security.DisallowedHost": {"filters": ["without_traceback"], "handlers": ["console"], "propagate": False}
    },
}
