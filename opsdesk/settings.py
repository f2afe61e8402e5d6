"""OpsDesk settings: twelve-factor, every value from the environment, with embedded defaults.

With no environment at all the desk runs on SQLite under ./var/, Celery tasks run in-process,
alerts arrive through a Maildir drop folder and SMS are kept in an outbox table. Production sets
DATABASE_URL, CELERY_BROKER_URL and friends (see README and deploy/).
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Plain TextChoices, safe before the app registry is ready: checks OPSDESK_2FA_REQUIRED_ROLES.
from opsdesk.org.choices import Role

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
    # API tokens stored as digests, with expiry (replaces rest_framework.authtoken; "Sessions and lockout").
    "knox",
    # Login lockout per account and per address ("Sessions and lockout").
    "axes",
    # Two factors: TOTP authenticators and single-use recovery codes ("Two factors").
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "opsdesk.org",
    # The security audit and the configuration history (django-pghistory on django-pgtrigger; "Audit").
    "pgtrigger",
    "pghistory",
    "opsdesk.audit",
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
    # Whether this session passed its second factor, then: until it has, only the two-factor pages
    # ("Two factors").
    "django_otp.middleware.OTPMiddleware",
    "opsdesk.org.two_factor_middleware.TwoFactorMiddleware",
    # Who and from where for the audit and the configuration history; audits every superuser request.
    "opsdesk.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL bytes and lone surrogates in the path or query answer 400 (opsdesk/inputs.py, "Input").
    "opsdesk.middleware.InputSafetyMiddleware",
    # The Content-Security-Policy header (django-csp; the policy is in "Content-Security-Policy").
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Idle and absolute session limits, password expiry ("Sessions and lockout").
    "opsdesk.middleware.SessionPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
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
# Django's four validators plus three character classes of four (opsdesk/org/password_validation.py);
# OPSDESK_PASSWORD_MIN_LENGTH and the expiry are in "Sessions and lockout".
OPSDESK_PASSWORD_MIN_LENGTH = env_int("OPSDESK_PASSWORD_MIN_LENGTH", 12)
if not 8 <= OPSDESK_PASSWORD_MIN_LENGTH <= 128:
    raise ImproperlyConfigured(f"OPSDESK_PASSWORD_MIN_LENGTH: expected 8-128 characters, got {OPSDESK_PASSWORD_MIN_LENGTH}")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": OPSDESK_PASSWORD_MIN_LENGTH}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "opsdesk.org.password_validation.CharacterClassValidator"},
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
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any backend checks a password.
    "axes.backends.AxesStandaloneBackend",
    "opsdesk.org.backends.UnitModelBackend",
]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Directory login --------------------------------------------------------------------
# LDAP / Active Directory sign-in (django-auth-ldap; opsdesk/org/ldap.py). OPSDESK_LDAP_SERVER_URI unset:
# off, local accounts only. Set: people sign in with their directory password; every login sets their
# roles from their groups (OPSDESK_LDAP_ROLE_GROUPS) and their unit from an attribute or the OU holding
# their entry, both by unit code. Local accounts with a password (break-glass) keep working through the
# ModelBackend after it. See README "Directory login (LDAP / AD)".
def directory_login(environ) -> dict:
    """The AUTH_LDAP_* / OPSDESK_LDAP_* settings for `environ`; one line naming the variable if wrong."""
    uri = environ.get("OPSDESK_LDAP_SERVER_URI", "").strip()
    if not uri:
        return {"AUTH_LDAP_SERVER_URI": ""}
    import json

    import ldap
    from django_auth_ldap.config import LDAPSearch, MemberDNGroupType, NestedMemberDNGroupType

    from opsdesk.org.choices import Role

    def need(name: str, example: str) -> str:
        value = environ.get(name, "").strip()
        if not value:
            raise ImproperlyConfigured(f"{name}: required with OPSDESK_LDAP_SERVER_URI, e.g. {example}")
        return value

    def flag(name: str, default: bool) -> bool:
        value = environ.get(name, "").strip().lower()
        if value in {"", "1", "true", "yes", "on", "0", "false", "no", "off"}:
            return default if not value else value in {"1", "true", "yes", "on"}
        raise ImproperlyConfigured(f"{name}: expected true/false, got {value!r}")

    if not uri.startswith(("ldap://", "ldaps://")):
        raise ImproperlyConfigured(f"OPSDESK_LDAP_SERVER_URI: expected ldap://host:389 or ldaps://host:636, got {uri!r}")
    raw = need("OPSDESK_LDAP_ROLE_GROUPS", "teller=CN=OpsDesk-Tellers,OU=Groups,DC=bank,DC=example;"
               "county_support=CN=OpsDesk-County,OU=Groups,DC=bank,DC=example")
    # JSON {"role": "group DN" or [DNs]} or "role=DN;role=DN" (DNs hold commas, so ";" separates).
    try:
        pairs = json.loads(raw) if raw.startswith("{") else dict(p.split("=", 1) for p in raw.split(";") if p.strip())
    except ValueError:
        raise ImproperlyConfigured('OPSDESK_LDAP_ROLE_GROUPS: expected JSON {"teller": "CN=…"} '
                                   'or "teller=CN=…;county_support=CN=…"') from None
    role_groups: dict[str, list[str]] = {}
    for role, groups in pairs.items():
        role = role.strip()
        if role not in Role.values:
            raise ImproperlyConfigured(f"OPSDESK_LDAP_ROLE_GROUPS: unknown role {role!r}; roles are {', '.join(Role.values)}")
        groups = [groups] if isinstance(groups, str) else list(groups)
        role_groups.setdefault(role, []).extend(g.strip() for g in groups if g.strip())
    timeout = environ.get("OPSDESK_LDAP_TIMEOUT", "5").strip()
    if not timeout.isdigit() or int(timeout) < 1:
        raise ImproperlyConfigured(f"OPSDESK_LDAP_TIMEOUT: expected whole seconds, got {timeout!r}")
    options = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: int(timeout), ldap.OPT_TIMEOUT: int(timeout)}
    if ca_file := environ.get("OPSDESK_LDAP_CA_FILE", "").strip():
        if not Path(ca_file).is_file():
            raise ImproperlyConfigured(f"OPSDESK_LDAP_CA_FILE: no such file {ca_file!r}")
        options |= {ldap.OPT_X_TLS_CACERTFILE: ca_file, ldap.OPT_X_TLS_REQUIRE_CERT: ldap.OPT_X_TLS_DEMAND,
                    ldap.OPT_X_TLS_NEWCTX: 0}
    unit_attribute = environ.get("OPSDESK_LDAP_UNIT_ATTRIBUTE", "department").strip()
    unit_from_ou = flag("OPSDESK_LDAP_UNIT_FROM_OU", False)
    if not unit_attribute and not unit_from_ou:
        raise ImproperlyConfigured("OPSDESK_LDAP_UNIT_ATTRIBUTE: empty and OPSDESK_LDAP_UNIT_FROM_OU off: "
                                   "the desk cannot tell a directory user's unit")
    user_filter = environ.get("OPSDESK_LDAP_USER_FILTER", "(sAMAccountName=%(user)s)").strip()
    if "%(user)s" not in user_filter:
        raise ImproperlyConfigured(f"OPSDESK_LDAP_USER_FILTER: must contain %(user)s, got {user_filter!r}")
    group_type = NestedMemberDNGroupType if flag("OPSDESK_LDAP_NESTED_GROUPS", False) else MemberDNGroupType
    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": environ.get("OPSDESK_LDAP_BIND_DN", "").strip(),
        "AUTH_LDAP_BIND_PASSWORD": environ.get("OPSDESK_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": flag("OPSDESK_LDAP_START_TLS", False),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            need("OPSDESK_LDAP_USER_SEARCH_BASE", "OU=Branches,DC=bank,DC=example"), ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            need("OPSDESK_LDAP_GROUP_SEARCH_BASE", "OU=Groups,DC=bank,DC=example"), ldap.SCOPE_SUBTREE,
            environ.get("OPSDESK_LDAP_GROUP_FILTER", "(|(objectClass=group)(objectClass=groupOfNames))").strip()),
        "AUTH_LDAP_GROUP_TYPE": group_type(member_attr="member"),
        "AUTH_LDAP_USER_ATTR_MAP": {"display_name": "displayName", "email": "mail", "mobile": "mobile"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,  # roles and unit follow the directory at every login
        "OPSDESK_LDAP_ROLE_GROUPS": role_groups,
        "OPSDESK_LDAP_UNIT_ATTRIBUTE": unit_attribute,
        "OPSDESK_LDAP_UNIT_FROM_OU": unit_from_ou,
    }


globals().update(directory_login(os.environ))
if globals()["AUTH_LDAP_SERVER_URI"]:
    # Before the local accounts' backend, whatever stands in front of both (the lockout backend first).
    AUTHENTICATION_BACKENDS.insert(AUTHENTICATION_BACKENDS.index("opsdesk.org.backends.UnitModelBackend"),
                                   "opsdesk.org.ldap.DirectoryBackend")

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
        "opsdesk.org.authentication.TokenAuthentication",  # knox's, one query fewer per call
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # JSON with a nesting limit and no NUL or lone surrogates (a 500 before); forms and uploads as DRF's.
    "DEFAULT_PARSER_CLASSES": ["opsdesk.inputs.SafeJSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    # A delete of what others still refer to answers 409, a unique clash 409 (opsdesk/api/errors.py).
    "EXCEPTION_HANDLER": "opsdesk.api.errors.exception_handler",
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

# --- Sessions and lockout ---------------------------------------------------------------
# A session ends after OPSDESK_SESSION_IDLE_MINUTES without a request (the live board's polling
# counts: operators watch it all night) and OPSDESK_SESSION_MAX_HOURS after login whatever happens
# (a shift), then the person logs in again; opsdesk/middleware.py SessionPolicyMiddleware.
OPSDESK_SESSION_IDLE_MINUTES = env_int("OPSDESK_SESSION_IDLE_MINUTES", 30)
OPSDESK_SESSION_MAX_HOURS = env_int("OPSDESK_SESSION_MAX_HOURS", 12)
if not 1 <= OPSDESK_SESSION_IDLE_MINUTES <= 24 * 60:
    raise ImproperlyConfigured(f"OPSDESK_SESSION_IDLE_MINUTES: expected 1-1440 minutes, got {OPSDESK_SESSION_IDLE_MINUTES}")
if not 1 <= OPSDESK_SESSION_MAX_HOURS <= 7 * 24:
    raise ImproperlyConfigured(f"OPSDESK_SESSION_MAX_HOURS: expected 1-168 hours, got {OPSDESK_SESSION_MAX_HOURS}")
SESSION_COOKIE_AGE = OPSDESK_SESSION_IDLE_MINUTES * 60
# The middleware refreshes the expiry at most once a minute, not a database write per poll.
SESSION_SAVE_EVERY_REQUEST = False
# Days a password lives before its owner must change it at the next page; 0 = no expiry.
OPSDESK_PASSWORD_MAX_AGE_DAYS = env_int("OPSDESK_PASSWORD_MAX_AGE_DAYS", 90)
if OPSDESK_PASSWORD_MAX_AGE_DAYS < 0:
    raise ImproperlyConfigured(f"OPSDESK_PASSWORD_MAX_AGE_DAYS: expected a number of days (0 = never), "
                               f"got {OPSDESK_PASSWORD_MAX_AGE_DAYS}")

# django-axes: OPSDESK_LOGIN_FAILURE_LIMIT failed logins for one account, or from one address, lock
# that account / address on the login page, the admin and the token endpoint for
# OPSDESK_LOGIN_LOCKOUT_MINUTES (0 = until the security administrator unlocks it in the admin).
OPSDESK_LOGIN_FAILURE_LIMIT = env_int("OPSDESK_LOGIN_FAILURE_LIMIT", 5)
OPSDESK_LOGIN_LOCKOUT_MINUTES = env_int("OPSDESK_LOGIN_LOCKOUT_MINUTES", 30)
if not 1 <= OPSDESK_LOGIN_FAILURE_LIMIT <= 100:
    raise ImproperlyConfigured(f"OPSDESK_LOGIN_FAILURE_LIMIT: expected 1-100 attempts, got {OPSDESK_LOGIN_FAILURE_LIMIT}")
if OPSDESK_LOGIN_LOCKOUT_MINUTES < 0:
    raise ImproperlyConfigured(f"OPSDESK_LOGIN_LOCKOUT_MINUTES: expected minutes (0 = until unlocked), "
                               f"got {OPSDESK_LOGIN_LOCKOUT_MINUTES}")
AXES_FAILURE_LIMIT = OPSDESK_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=OPSDESK_LOGIN_LOCKOUT_MINUTES) if OPSDESK_LOGIN_LOCKOUT_MINUTES else None
# Each on its own: an account under attack from many addresses, an address trying many accounts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A right password clears the person's own failures from that address, no one else's (LockoutHandler).
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "opsdesk.org.authentication.LockoutHandler"
# Successful logins are the security audit's record (opsdesk/audit/); axes' own log would also open an
# empty session for every API token issued.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "opsdesk.org.authentication.lockout_response"
# The client address is the one TrustedProxyMiddleware leaves: X-Forwarded-For only from
# OPSDESK_TRUSTED_PROXIES, else the socket peer (opsdesk/middleware.py client_address).
AXES_CLIENT_IP_CALLABLE = "opsdesk.middleware.client_address"
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# API tokens (django-rest-knox): only a SHA-512 digest is stored; OPSDESK_API_TOKEN_TTL_HOURS after
# it is issued a token stops working (default a week); logging out revokes it.
OPSDESK_API_TOKEN_TTL_HOURS = env_int("OPSDESK_API_TOKEN_TTL_HOURS", 7 * 24)
if not 1 <= OPSDESK_API_TOKEN_TTL_HOURS <= 90 * 24:
    raise ImproperlyConfigured(f"OPSDESK_API_TOKEN_TTL_HOURS: expected 1-2160 hours, got {OPSDESK_API_TOKEN_TTL_HOURS}")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=OPSDESK_API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
}

# --- Content-Security-Policy -----------------------------------------------------------
# django-csp 4.x. Everything from the desk itself: no inline script, style or event handler in the
# desk's templates (scripts and styles are static files), no plugins, no framing, forms post only
# here. The board's alarm uses the Web Audio API (no media file); media-src stays 'self' for one.
# The API docs (Swagger UI) get their own relaxed policy on their views (opsdesk/api/urls.py).
CSRF_FAILURE_VIEW = "opsdesk.views.csrf_failure"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
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
if CELERY_BROKER_URL.startswith("filesystem://"):
    # `make run`: kombu's file-system transport, so one machine runs a real worker and beat (SLA clocks,
    # escalations, SMS retries) without Redis. Producers and the worker share one folder.
    _celery_folder = VAR_DIR / "celery" / "queue"
    _celery_folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(_celery_folder), "data_folder_out": str(_celery_folder),
                                       "control_folder": str(_celery_folder.parent / "control"),
                                       "store_processed": False, "polling_interval": 0.2}
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
    # A refused request (403, 400) is one warning line, not a traceback (opsdesk/logfilters.py).
    "filters": {"client_errors": {"()": "opsdesk.logfilters.ClientErrorTracebackFilter"}},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django.request": {"filters": ["client_errors"]},
                # django-axes logs every login at INFO; the security audit records them (opsdesk/audit/).
                "axes": {"level": "WARNING"}},
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

# --- Two factors ------------------------------------------------------------------------
# TOTP (django-otp) after the password; the rule of who must is opsdesk/org/two_factor.py
# requires_two_factor(): administrators of every kind and the provincial roles (dispatcher, operator,
# managers of the provincial centre and operations department). Anyone else may enrol and is then asked too.
# false = nobody must (test suites, trials; never in production).
OPSDESK_2FA_REQUIRED = env_bool("OPSDESK_2FA_REQUIRED", default=True)
# More roles that must, comma-separated role names (e.g. "city_support,county_support").
OPSDESK_2FA_REQUIRED_ROLES = env_list("OPSDESK_2FA_REQUIRED_ROLES")
_unknown_roles = sorted(set(OPSDESK_2FA_REQUIRED_ROLES) - set(Role.values))
if _unknown_roles:
    raise ImproperlyConfigured(f"OPSDESK_2FA_REQUIRED_ROLES: unknown roles {', '.join(_unknown_roles)} "
                               f"(known: {', '.join(Role.values)})")
# true = everyone must.
OPSDESK_2FA_FOR_ALL = env_bool("OPSDESK_2FA_FOR_ALL", default=False)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = os.environ.get("OPSDESK_2FA_ISSUER", "").strip() or "OpsDesk"
# Each wrong code doubles the wait before the next try (1 s, 2 s, 4 s…), per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# No key or QR code of anybody's device in the admin (opsdesk/org/admin_two_factor.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Audit ------------------------------------------------------------------------------
# The security audit (opsdesk/audit/: sign-ins, lockouts, role and permission changes, superuser use) and
# the configuration history (django-pghistory event tables, before/after values, written by PostgreSQL
# triggers) are append-only in PostgreSQL itself and never purged (kept beyond the 180 days the bank's
# standard asks). On the embedded SQLite default the history is not kept (no triggers); the security
# audit is. The event tables refuse UPDATE and DELETE:
PGHISTORY_APPEND_ONLY = True

# --- OpsDesk ----------------------------------------------------------------------------
# Where the embedded default picks up alert e-mails (a Maildir: drop files into new/).
OPSDESK_ALERT_MAILDIR = Path(os.environ.get("OPSDESK_ALERT_MAILDIR", VAR_DIR / "alert-maildir"))
# SMS backend: "outbox" keeps messages in the database and shows them as sent.
OPSDESK_SMS_BACKEND = os.environ.get("OPSDESK_SMS_BACKEND", "outbox")
OPSDESK_ATTACHMENT_MAX_BYTES = env_int("OPSDESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
