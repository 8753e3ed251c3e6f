"""Settings for the hub: every value comes from the environment (django-environ).

The defaults run the demo: SQLite in ``var/``, Celery on kombu's filesystem transport (no
server to install) and the sandbox standing in for Xero and Amazon. Production sets
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``FERNET_KEYS`` and the providers' client
credentials; ``hub/checks.py`` refuses to start an unsafe or incomplete production set-up.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is read for convenience; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("HUB_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
# The development key only ever serves DEBUG; hub.checks refuses it with DEBUG off.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "hub",
    "connectors",
    "mappings",
    "sync",
    "purchases",
    "settlements",
    "orders",
    "sandbox",
    "sandbox.xero",
    "sandbox.xero_identity",
    "sandbox.amazon",
    "sandbox.business",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

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
                "hub.context_processors.hub",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hub.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in the demo: wait for the writer instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "app-home"
LOGOUT_REDIRECT_URL = "landing"

# --- I18N, static ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files from the app process (gunicorn has no static server); finders
# let it serve straight from static/ without a collectstatic step in the demo and the tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security (production) ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
X_FRAME_OPTIONS = "DENY"

# --- Token encryption -----------------------------------------------------------------------------
# Comma-separated Fernet keys, newest first: the first encrypts, all decrypt (rotation).
FERNET_KEYS = env.list("FERNET_KEYS", default=[])
if not FERNET_KEYS and DEBUG:
    # Demo only: a key derived from the development SECRET_KEY. hub.checks refuses this with
    # DEBUG off, so production always brings its own keys.
    FERNET_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]

# --- Providers ------------------------------------------------------------------------------------
XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="")
AMAZON_SP_CLIENT_ID = env.str("AMAZON_SP_CLIENT_ID", default="")
AMAZON_SP_CLIENT_SECRET = env.str("AMAZON_SP_CLIENT_SECRET", default="")
AMAZON_SP_APP_ID = env.str("AMAZON_SP_APP_ID", default="")
# Draft (unpublished) SP-API apps must add version=beta to the consent URL.
AMAZON_SP_APP_DRAFT = env.bool("AMAZON_SP_APP_DRAFT", default=False)
AMAZON_BUSINESS_CLIENT_ID = env.str("AMAZON_BUSINESS_CLIENT_ID", default="")
AMAZON_BUSINESS_CLIENT_SECRET = env.str("AMAZON_BUSINESS_CLIENT_SECRET", default="")
AMAZON_BUSINESS_APP_ID = env.str("AMAZON_BUSINESS_APP_ID", default="")

# The sandbox stands in for Xero and Amazon unless real credentials are configured.
SANDBOX = env.bool("SANDBOX", default=not (XERO_CLIENT_ID or AMAZON_SP_CLIENT_ID))
if SANDBOX:
    MIDDLEWARE.append("sandbox.middleware.AbortedConnectionMiddleware")
SANDBOX_URL = env.str("SANDBOX_URL", default=f"{SITE_URL}/sandbox").rstrip("/")
if SANDBOX:
    # The sandbox registers these apps when it is seeded (manage.py sandbox_seed).
    XERO_CLIENT_ID = XERO_CLIENT_ID or "sandbox-hub-xero-client"
    XERO_CLIENT_SECRET = XERO_CLIENT_SECRET or "sandbox-hub-xero-secret"
    AMAZON_SP_CLIENT_ID = AMAZON_SP_CLIENT_ID or "amzn1.application-oa2-client.sandboxhub"
    AMAZON_SP_CLIENT_SECRET = AMAZON_SP_CLIENT_SECRET or "sandbox-hub-sp-secret"
    AMAZON_SP_APP_ID = AMAZON_SP_APP_ID or "amzn1.sp.solution.sandbox-hub"
    AMAZON_BUSINESS_CLIENT_ID = (
        AMAZON_BUSINESS_CLIENT_ID or "amzn1.application-oa2-client.sandboxhubbusiness"
    )
    AMAZON_BUSINESS_CLIENT_SECRET = AMAZON_BUSINESS_CLIENT_SECRET or "sandbox-hub-ab-secret"
    AMAZON_BUSINESS_APP_ID = AMAZON_BUSINESS_APP_ID or "amzn1.sp.solution.sandbox-hub-business"


def _base(name: str, real: str, sandboxed: str) -> str:
    value: str = env.str(name, default=f"{SANDBOX_URL}/{sandboxed}" if SANDBOX else real)
    return value.rstrip("/")


XERO_LOGIN_URL = _base("XERO_LOGIN_URL", "https://login.xero.com", "xero/login")
XERO_IDENTITY_URL = _base("XERO_IDENTITY_URL", "https://identity.xero.com", "xero/identity")
XERO_API_URL = _base("XERO_API_URL", "https://api.xero.com", "xero/api")
XERO_WEBHOOK_KEY = env.str("XERO_WEBHOOK_KEY", default="")
AMAZON_LWA_URL = _base("AMAZON_LWA_URL", "https://api.amazon.com", "amazon/lwa")
AMAZON_SELLER_CENTRAL_URL = _base(
    "AMAZON_SELLER_CENTRAL_URL", "https://sellercentral.amazon.com", "amazon/sellercentral"
)
AMAZON_SP_API_URL_NA = _base(
    "AMAZON_SP_API_URL_NA", "https://sellingpartnerapi-na.amazon.com", "amazon/sp/na"
)
AMAZON_SP_API_URL_EU = _base(
    "AMAZON_SP_API_URL_EU", "https://sellingpartnerapi-eu.amazon.com", "amazon/sp/eu"
)
AMAZON_SP_API_URL_FE = _base(
    "AMAZON_SP_API_URL_FE", "https://sellingpartnerapi-fe.amazon.com", "amazon/sp/fe"
)
AMAZON_BUSINESS_CONSENT_URL = _base(
    "AMAZON_BUSINESS_CONSENT_URL", "https://www.amazon.com", "business/store"
)
AMAZON_BUSINESS_API_URL = _base(
    "AMAZON_BUSINESS_API_URL", "https://na.business-api.amazon.com", "business/api"
)

# --- Celery ---------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=REDIS_URL or f"file://{VAR_DIR / 'celery-results'}",
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task acked late but never finished is redelivered after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How many processes each worker runs; SQLite allows one (see hub.checks).
WORKER_CONCURRENCY = env.int(
    "WORKER_CONCURRENCY",
    default=1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 4,
)
CELERY_WORKER_CONCURRENCY = WORKER_CONCURRENCY
# A queued push marker older than this lost its task: the dispatcher queues the push again.
PUSH_QUEUE_LOST_SECONDS = env.int("PUSH_QUEUE_LOST_SECONDS", default=900)
# A ledger row left "sending" longer than this lost its worker and is settled by a lookup in Xero.
LEDGER_STALE_SENDING_SECONDS = env.int(
    "LEDGER_STALE_SENDING_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)
# The one beat schedule: a dispatcher that enqueues whatever work is due (sync/dispatch.py).
DISPATCH_INTERVAL_SECONDS = env.int("DISPATCH_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-work": {
        "task": "sync.tasks.dispatch_due_work",
        "schedule": float(DISPATCH_INTERVAL_SECONDS),
        "options": {"expires": DISPATCH_INTERVAL_SECONDS},
    },
}

# Settlement reports: how often each link looks for new ones, and how long after Amazon's
# deposit date a settlement is taken as final (Amazon can issue a corrected copy until then).
SETTLEMENTS_PULL_HOURS = env.float("SETTLEMENTS_PULL_HOURS", default=6.0)
SETTLEMENTS_FINAL_AFTER_DEPOSIT_HOURS = env.float(
    "SETTLEMENTS_FINAL_AFTER_DEPOSIT_HOURS", default=24.0
)

# Seller Central orders (per-order accounting): how often each link reads new and changed orders.
ORDERS_PULL_MINUTES = env.float("ORDERS_PULL_MINUTES", default=60.0)

# Divides every provider rate-limit window: matches the sandbox's time scale in tests and
# benchmarks (a Xero "minute" of one second at 60). Always 1 against the real services.
RATE_LIMIT_TIME_SCALE = env.float("RATE_LIMIT_TIME_SCALE", default=1.0)

# --- Email ----------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hub@localhost")

# --- Metrics --------------------------------------------------------------------------------------
# When set, /metrics asks for "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
