"""Django settings for Orchestra: every value comes from the environment, read here only."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from orchestra import VERSION, mongodb
from orchestra.environment import (
    database_from_url,
    email_address,
    env_bool,
    env_directory,
    env_int,
    env_list,
    env_str,
    http_url,
    private_file,
    public_url,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = env_directory("ORCHESTRA_DATA_DIR", BASE_DIR / "data")
DEBUG = env_bool("ORCHESTRA_DEBUG", False)
ALLOWED_HOSTS = env_list("ORCHESTRA_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ORCHESTRA_CSRF_TRUSTED_ORIGINS", [])


def _secret_key() -> str:
    configured = env_str("ORCHESTRA_SECRET_KEY", "")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("ORCHESTRA_SECRET_KEY: must be at least 32 characters")
        return configured
    # Without a configured key, one random key per data directory keeps sessions and CSRF
    # stable across restarts of the same installation.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        private_file(key_file)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

CONFIGURATION_MODULE = env_str("ORCHESTRA_CONFIGURATION", "examples.configuration")
LOG_DIR = DATA_DIR / "logs"
TEMPLATES_OVERRIDE_DIR = env_str("ORCHESTRA_TEMPLATES_DIR", "")
STATIC_OVERRIDE_DIR = env_str("ORCHESTRA_STATIC_DIR", "")
for _name, _value in (
    ("ORCHESTRA_TEMPLATES_DIR", TEMPLATES_OVERRIDE_DIR),
    ("ORCHESTRA_STATIC_DIR", STATIC_OVERRIDE_DIR),
):
    if _value and not Path(_value).is_dir():
        raise ImproperlyConfigured(f"{_name}: {_value} is not a directory")

# Extension points: dotted paths loaded once at start (see orchestra/extensions.py).
WORKER_MATCHER = env_str("ORCHESTRA_WORKER_MATCHER", "workers.matching.properties_match")
RUN_TRANSFORMERS = env_list(
    "ORCHESTRA_RUN_TRANSFORMERS", ["runs.transformers.add_durations", "runs.transformers.add_links"]
)
LOG_STORE = env_str("ORCHESTRA_LOG_STORE", "runs.logstore.FileLogStore")
REVISION_PROVIDERS = {
    "git": env_str("ORCHESTRA_GIT_PROVIDER", "projects.revisions.GitProvider"),
    "github": env_str("ORCHESTRA_GITHUB_PROVIDER", "projects.revisions.GitHubProvider"),
}
AUTHORIZATION_ROLES = env_str("ORCHESTRA_ROLES", "orchestra.roles.DEFAULT_ROLES")

# GitHub's API, read by the "github" provider: another address for GitHub Enterprise, a token
# (best given as ORCHESTRA_GITHUB_TOKEN_FILE) for private repositories and a higher rate limit.
GITHUB_API_URL = http_url("ORCHESTRA_GITHUB_API_URL", "https://api.github.com")
GITHUB_TOKEN = env_str("ORCHESTRA_GITHUB_TOKEN", "").strip()

# Worker liveness and dispatch.
WORKER_INACTIVE_AFTER = env_int("ORCHESTRA_WORKER_INACTIVE_SECONDS", 120, minimum=1)
DISPATCH_SWEEP_SECONDS = env_int("ORCHESTRA_DISPATCH_SWEEP_SECONDS", 1, minimum=1)
# A worker disconnected this long is lost: its active runs end `exception` (None: never).
WORKER_LOST_AFTER = env_int("ORCHESTRA_WORKER_LOST_AFTER", None, minimum=1)
# A master whose heartbeat is this much older is gone (orchestra/masters.py); each refreshes
# its own several times within it.
MASTER_GONE_AFTER = env_int("ORCHESTRA_MASTER_GONE_AFTER", 60, minimum=4)

# Retention: final runs older than this many days are deleted with their logs (None: kept).
KEEP_RUNS_DAYS = env_int("ORCHESTRA_KEEP_RUNS_DAYS", None, minimum=1)
SCHEDULER_SECONDS = env_int("ORCHESTRA_SCHEDULER_SECONDS", 10, minimum=1)

# Notifications of run ends (docs/configuration.md, "Notifications"). The public address links
# them to the run's page; a failed delivery is tried again after the delay, doubled at each
# attempt, until ATTEMPTS attempts were made.
PUBLIC_URL = public_url("ORCHESTRA_PUBLIC_URL")
NOTIFICATION_ATTEMPTS = env_int("ORCHESTRA_NOTIFICATION_ATTEMPTS", 8, minimum=1)
NOTIFICATION_RETRY_DELAY = env_int("ORCHESTRA_NOTIFICATION_RETRY_DELAY", 30, minimum=1)
NOTIFICATION_TIMEOUT = env_int("ORCHESTRA_NOTIFICATION_TIMEOUT", 10, minimum=1)
# E-mail goes through Django's SMTP backend with these.
EMAIL_HOST = env_str("ORCHESTRA_EMAIL_HOST", "").strip()
EMAIL_PORT = env_int("ORCHESTRA_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("ORCHESTRA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("ORCHESTRA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ORCHESTRA_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = env_bool("ORCHESTRA_EMAIL_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "ORCHESTRA_EMAIL_STARTTLS and ORCHESTRA_EMAIL_SSL: choose one of them"
    )
if EMAIL_PORT > 65535:
    raise ImproperlyConfigured(f"ORCHESTRA_EMAIL_PORT: must be at most 65535, got {EMAIL_PORT}")
DEFAULT_FROM_EMAIL = email_address("ORCHESTRA_EMAIL_FROM", "orchestra@localhost")
EMAIL_TIMEOUT = NOTIFICATION_TIMEOUT

# Tokens and login.
SESSION_TOKEN_DAYS = env_int("ORCHESTRA_SESSION_DAYS", 7, minimum=1)
SESSION_COOKIE_NAME = "orchestra_session"
LOGIN_FAILURE_LIMIT = env_int("ORCHESTRA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("ORCHESTRA_LOGIN_FAILURE_WINDOW_SECONDS", 300, minimum=1)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "orchestra",
    "projects",
    "runs",
    "workers",
]

MIDDLEWARE = [
    # First, so that it sees every answer to /api/, including the other middleware's.
    "orchestra.middleware.ServiceErrorsMiddleware",
    "orchestra.middleware.NulPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "orchestra.middleware.SecurityHeadersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "orchestra.middleware.TokenAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "orchestra.urls"
ASGI_APPLICATION = "orchestra.asgi.application"

_template_dirs = [BASE_DIR / "templates"]
if TEMPLATES_OVERRIDE_DIR:
    _template_dirs.insert(0, Path(TEMPLATES_OVERRIDE_DIR))
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": _template_dirs,
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
        "ORCHESTRA_DATABASE_URL", env_str("ORCHESTRA_DATABASE_URL", ""), DATA_DIR
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    import pymysql

    pymysql.install_as_MySQLdb()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"] == mongodb.ENGINE:
    INSTALLED_APPS = mongodb.installed_apps(INSTALLED_APPS)
    MIGRATION_MODULES = mongodb.MIGRATION_MODULES
    DEFAULT_AUTO_FIELD = mongodb.PRIMARY_KEY

REDIS_URL = redis_url("ORCHESTRA_REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 30},
        }
    }

# Django 5.2's PBKDF2 hasher already does 1,000,000 iterations; naming it first makes it the
# one used for every new password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    "orchestra.backends.PermissionBackend",
    "orchestra.backends.AdministratorBackend",
]
LOGIN_URL = "/login/"

MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
# Sessions are Orchestra's own hashed tokens, not django.contrib.sessions.
SILENCED_SYSTEM_CHECKS = ["admin.E410"]

CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("ORCHESTRA_BEHIND_HTTPS_PROXY") else None
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
if STATIC_OVERRIDE_DIR:
    STATICFILES_DIRS.insert(0, Path(STATIC_OVERRIDE_DIR))
STATIC_ROOT = DATA_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["orchestra.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["orchestra.permissions.HasDeclaredAuthorization"],
    "DEFAULT_FILTER_BACKENDS": [
        "orchestra.filters.ServiceFilterBackend",
    ],
    # Bodies are JSON, answers are JSON: every other media type is a 415, whatever Accept says.
    "DEFAULT_PARSER_CLASSES": ["orchestra.api_views.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["orchestra.api_views.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "orchestra.api_views.JSONOnly",
    "DEFAULT_PAGINATION_CLASS": "orchestra.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "orchestra.schema.ServiceSchema",
    "EXCEPTION_HANDLER": "orchestra.api_errors.json_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestra service",
    "VERSION": VERSION,
    # What Django's path converters match: digits; a slug; anything but "" or a slash.
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0},
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        "str": {"type": "string", "pattern": "^[^/]+$"},
        # orchestra.database.PrimaryKeyConverter
        "pk": (
            {"type": "string", "pattern": "^[0-9a-f]{24}$"}
            if DATABASES["default"]["ENGINE"] == mongodb.ENGINE
            else {"type": "integer", "minimum": 0}
        ),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("ORCHESTRA_LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
