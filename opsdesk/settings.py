"""OpsDesk settings: twelve-factor, every value from the environment, with embedded defaults.

With no environment at all the desk runs on SQLite under ./var/, Celery tasks run in-process,
alerts arrive through a Maildir drop folder and SMS are kept in an outbox table. Production sets
DATABASE_URL, CELERY_BROKER_URL and friends (see README and deploy/).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OPSDESK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected true/false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

# The public development key serves the embedded default only (no DATABASE_URL). With a real
# database every entry point refuses to start on it, on a known placeholder, or on a key Django's
# deploy check calls weak (under 50 characters, under 5 distinct ones, "django-insecure-").
DEVELOPMENT_SECRET_KEY = "opsdesk-insecure-development-key-change-me"
PLACEHOLDER_SECRET_KEYS = {DEVELOPMENT_SECRET_KEY, "change-me", "changeme", "secret", "replace-me"}


def secret_key_problem(key: str) -> str | None:
    if not key:
        return "not set"
    if key in PLACEHOLDER_SECRET_KEYS or key.startswith("django-insecure-") or "change-me" in key:
        return "a placeholder"
    if len(key) < 50 or len(set(key)) < 5:
        return "too short (at least 50 characters, 5 of them different)"
    return None


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if os.environ.get("DATABASE_URL"):
    if problem := secret_key_problem(SECRET_KEY):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY: {problem}; a desk with a DATABASE_URL needs its own key, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")
elif not SECRET_KEY:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
# Old keys still accepted for sessions and signed values while a new key rolls out.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "opsdesk.org",
    "notifications",
    "reports",
    "workflow",
    "tickets",
    "alerts",
]

MIDDLEWARE = [
    # Outermost: the desk's own HTTP metrics see every answer, the probes' and refusals' too.
    "opsdesk.http_metrics.HttpMetricsMiddleware",
    # /healthz, /readyz, /metrics whatever the Host (probes and scrapes come by pod IP), before host
    # validation and the HTTPS redirect (opsdesk/probes.py).
    "opsdesk.probes.ProbeMiddleware",
    # Forwarded headers from untrusted peers go before anything reads them (Transport security).
    "opsdesk.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the process itself (bank intranets: no CDN; `make run`: no web server).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "opsdesk.middleware.PreferredLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "opsdesk.urls"
WSGI_APPLICATION = "opsdesk.wsgi.application"
ASGI_APPLICATION = "opsdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "opsdesk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsdesk.org.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
from opsdesk.config import database_from_url  # noqa: E402  (needs env helpers above)

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", ""), VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "opsdesk" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "opsdesk" / "static"]
# Serve straight from the apps' static folders when `collectstatic` has not run (the embedded
# default); deployments run collectstatic (deploy/Dockerfile) and get compressed, cached files.
WHITENOISE_USE_FINDERS = True
# SQLite cannot enforce the reports' NULLS NOT DISTINCT constraints; PostgreSQL (production) does.
SILENCED_SYSTEM_CHECKS = ["models.W047"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))

# --- File storage -----------------------------------------------------------------------
# Attachments must be on storage that every web and worker replica sees and that outlives a redeploy:
# OPSDESK_STORAGE=filesystem (default): MEDIA_ROOT on a shared volume (compose: a named volume; Kubernetes:
# a ReadWriteMany claim); OPSDESK_STORAGE=s3: an S3-compatible object store (on-premises ones are common in
# banks) through django-storages. Either way files stay private: no public ACL, no URL is ever handed out,
# the scoped download views stream them through the storage API.
MEDIA_ROOT = Path(os.environ.get("OPSDESK_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
OPSDESK_STORAGE = os.environ.get("OPSDESK_STORAGE", "").strip().lower() or "filesystem"
if OPSDESK_STORAGE == "filesystem":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif OPSDESK_STORAGE == "s3":
    if not os.environ.get("OPSDESK_S3_BUCKET", "").strip():
        raise ImproperlyConfigured("OPSDESK_S3_BUCKET: required when OPSDESK_STORAGE=s3 (the bucket for attachments)")
    _addressing = os.environ.get("OPSDESK_S3_ADDRESSING_STYLE", "").strip().lower() or "path"
    if _addressing not in {"path", "virtual", "auto"}:
        raise ImproperlyConfigured(f"OPSDESK_S3_ADDRESSING_STYLE: expected path, virtual or auto, got {_addressing!r}")
    # true/false, or the path of the CA bundle that signed an on-premises store's certificate.
    _verify: bool | str = os.environ.get("OPSDESK_S3_VERIFY", "").strip() or "true"
    if _verify.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        _verify = env_bool("OPSDESK_S3_VERIFY", default=True)
    elif not Path(_verify).is_file():
        raise ImproperlyConfigured(f"OPSDESK_S3_VERIFY: no CA bundle at {_verify!r} (true, false or a file)")
    _access_key = os.environ.get("OPSDESK_S3_ACCESS_KEY_ID", "").strip()
    _secret_key = os.environ.get("OPSDESK_S3_SECRET_ACCESS_KEY", "").strip()
    if bool(_access_key) != bool(_secret_key):
        raise ImproperlyConfigured("OPSDESK_S3_ACCESS_KEY_ID and OPSDESK_S3_SECRET_ACCESS_KEY: set both or neither "
                                   "(neither: the instance role or AWS_* variables)")
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ["OPSDESK_S3_BUCKET"].strip(),
        "endpoint_url": os.environ.get("OPSDESK_S3_ENDPOINT_URL", "").strip() or None,
        "region_name": os.environ.get("OPSDESK_S3_REGION", "").strip() or None,
        "access_key": _access_key or None,
        "secret_key": _secret_key or None,
        "addressing_style": _addressing,
        "verify": _verify,
        "location": os.environ.get("OPSDESK_S3_PREFIX", "").strip().strip("/"),
        # Private objects; signed URLs only (none is handed out: downloads go through the scoped views).
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        # Larger downloads spool to /tmp rather than memory.
        "max_memory_size": 2 * 1024 * 1024,
    }}
else:
    raise ImproperlyConfigured(f"OPSDESK_STORAGE: expected filesystem or s3, got {OPSDESK_STORAGE!r}")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Sign-in and cookies ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["opsdesk.org.backends.UnitModelBackend"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Transport security -----------------------------------------------------------------
# The desk sits behind a proxy that terminates TLS (nginx, an ingress, an F5; deploy/nginx/).
# OPSDESK_TRUSTED_PROXIES: the addresses or networks (comma-separated, "*" = any) whose
# X-Forwarded-Proto/-For/-Host count. gunicorn reads the same variable (deploy/gunicorn.conf.py);
# from any other peer TrustedProxyMiddleware drops those headers, so a client talking to gunicorn
# directly cannot claim HTTPS. GUNICORN_FORWARDED_ALLOW_IPS is the old name, still read.
OPSDESK_TRUSTED_PROXIES = env_list(
    "OPSDESK_TRUSTED_PROXIES" if os.environ.get("OPSDESK_TRUSTED_PROXIES") else "GUNICORN_FORWARDED_ALLOW_IPS",
    "127.0.0.1,::1")
for _proxy in OPSDESK_TRUSTED_PROXIES:
    if _proxy != "*":
        try:
            ipaddress.ip_network(_proxy, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"OPSDESK_TRUSTED_PROXIES: {_proxy!r} is not an address or network "
                                       "(e.g. 10.0.0.0/8,127.0.0.1)") from None
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS by default outside DEBUG: redirect, HSTS, Secure cookies. DJANGO_HTTPS=false serves plain
# HTTP (`make run`, the test suite, a desk nobody reaches but through an SSH tunnel).
OPSDESK_HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = OPSDESK_HTTPS
# Probes and the Prometheus scrape reach pods over plain HTTP: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)/?$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600) if OPSDESK_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preload is a promise to every browser vendor that cannot be taken back quickly, and intranet
# names are not on the public preload list: off, and its deploy-check warning silenced.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS += ["security.W021"]
# DJANGO_SECURE_COOKIES, the older switch for the cookies alone, still overrides.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=OPSDESK_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE


def origins_from_hosts(hosts: list[str]) -> list[str]:
    """https://name for every allowed host; ".example.com" → the domain and its subdomains."""
    origins = []
    for host in hosts:
        if host == "*" or host == "testserver":
            continue
        if host.startswith("."):
            origins += [f"https://{host[1:]}", f"https://*{host}"]
        else:
            origins.append(f"https://{host}")
    return origins


# A form posted over HTTPS must come from one of these origins (Django compares the Origin
# header); by default the allowed host names over https.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS") or origins_from_hosts(ALLOWED_HOSTS)

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsDesk API",
    "DESCRIPTION": "Service requests, incidents, organisation and notifications of the OpsDesk.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Bank intranets have no internet: serve Swagger UI from the sidecar package.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "state" or "status": give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "workflow.requests.RequestState",
        "IncidentStateEnum": "workflow.incidents.IncidentState",
        "AlertStatusEnum": "alerts.choices.AlertStatus",
        "NotificationStatusEnum": "notifications.models.delivery.NotificationStatus",
        # A unit's "kind" and a request's or SLA policy's "level" are the same choice set.
        "UnitKindEnum": "opsdesk.org.choices.UnitKind",
    },
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
# Embedded default: without a broker, tasks run in-process (eagerly) right after commit.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {}  # filled by opsdesk/celery.py
CELERY_BEAT_SCHEDULE: dict = {}  # filled by opsdesk/celery.py

# --- Logging ----------------------------------------------------------------------------
# OPSDESK_LOG_FORMAT: "plain" (default: one readable line on stderr) or "json" (one JSON object a
# line on stdout, for a log shipper: time, level, logger, message, request, exception; see
# opsdesk/logformat.py). gunicorn's own lines follow the same choice (deploy/gunicorn.conf.py).
OPSDESK_LOG_FORMAT = os.environ.get("OPSDESK_LOG_FORMAT", "").strip().lower() or "plain"
if OPSDESK_LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"OPSDESK_LOG_FORMAT: expected plain or json, got {OPSDESK_LOG_FORMAT!r}")
OPSDESK_LOG_LEVEL = os.environ.get("OPSDESK_LOG_LEVEL", "").strip().upper() or "INFO"
if OPSDESK_LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"OPSDESK_LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, "
                               f"got {OPSDESK_LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "opsdesk.logformat.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": OPSDESK_LOG_FORMAT,
                             **({"stream": "ext://sys.stdout"} if OPSDESK_LOG_FORMAT == "json" else {})}},
    "root": {"handlers": ["console"], "level": OPSDESK_LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# A Celery worker would replace these handlers with its own plain ones; JSON must stay JSON.
CELERY_WORKER_HIJACK_ROOT_LOGGER = OPSDESK_LOG_FORMAT != "json"

# --- E-mail -----------------------------------------------------------------------------
# The e-mail channel of notifications (notifications/backends/email.py) sends through Django's
# mail settings. EMAIL_HOST set: SMTP to that relay. Unset: the embedded default (no DATABASE_URL)
# writes each mail as a file under OPSDESK_VAR_DIR/sent-mail/ (like the SMS outbox), and a desk
# with a DATABASE_URL hands mail to an MTA on localhost:25, Django's default.
# EMAIL_USE_TLS = STARTTLS (usually port 587), EMAIL_USE_SSL = TLS from the first byte (usually
# 465); a relay signed by the bank's own CA is trusted through SSL_CERT_FILE (OpenSSL's variable).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL: set one, not both (TLS = STARTTLS, usually "
                               "port 587; SSL = implicit TLS, usually port 465)")
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
# Seconds before a silent relay counts as a failure (retried later), instead of blocking a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
if not 0 < EMAIL_PORT < 65536:
    raise ImproperlyConfigured(f"EMAIL_PORT: expected a port number (1-65535), got {EMAIL_PORT}")
if EMAIL_TIMEOUT <= 0:
    raise ImproperlyConfigured(f"EMAIL_TIMEOUT: expected a number of seconds above 0, got {EMAIL_TIMEOUT}")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "opsdesk@localhost"
# The sender of the desk's own error mails to ADMINS (none are configured by default).
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", "").strip() or DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif not os.environ.get("DATABASE_URL"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "localhost"

# --- Retention --------------------------------------------------------------------------
# What the desk stops keeping, purged once a day by beat (03:10-03:30 local time) or by
# `manage.py purge_expired [--dry-run]`. Days; 0 = keep forever. The audit trails (request and
# incident events, rule changes, the workflow's records) are never purged, nor anything an open
# incident, an unresolved quarantined mail or an undelivered notification still needs.
# The raw bytes (and decoded attachments) of alert mail and webhook bodies; the parsed record stays.
OPSDESK_RETENTION_RAW_MAIL_DAYS = env_int("OPSDESK_RETENTION_RAW_MAIL_DAYS", 180)
# Delivered SMS and e-mail (sent, or merged into a sent digest); failed and dead ones are kept.
OPSDESK_RETENTION_NOTIFICATIONS_DAYS = env_int("OPSDESK_RETENTION_NOTIFICATIONS_DAYS", 365)
# Delete sessions past their expiry date (Django's `clearsessions`, in batches).
OPSDESK_RETENTION_EXPIRED_SESSIONS = env_bool("OPSDESK_RETENTION_EXPIRED_SESSIONS", default=True)
# Rows per delete/update transaction: short locks, whatever the backlog.
OPSDESK_RETENTION_BATCH_SIZE = env_int("OPSDESK_RETENTION_BATCH_SIZE", 1000)
for _name in ("OPSDESK_RETENTION_RAW_MAIL_DAYS", "OPSDESK_RETENTION_NOTIFICATIONS_DAYS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name}: expected a number of days (0 = keep forever), got {globals()[_name]}")
if OPSDESK_RETENTION_BATCH_SIZE < 1:
    raise ImproperlyConfigured(f"OPSDESK_RETENTION_BATCH_SIZE: expected a positive integer, "
                               f"got {OPSDESK_RETENTION_BATCH_SIZE}")

# --- OpsDesk ----------------------------------------------------------------------------
# Where the embedded default picks up alert e-mails (a Maildir: drop files into new/).
OPSDESK_ALERT_MAILDIR = Path(os.environ.get("OPSDESK_ALERT_MAILDIR", VAR_DIR / "alert-maildir"))
# SMS backend: "outbox" keeps messages in the database and shows them as sent.
OPSDESK_SMS_BACKEND = os.environ.get("OPSDESK_SMS_BACKEND", "outbox")
OPSDESK_ATTACHMENT_MAX_BYTES = env_int("OPSDESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
