"""Django settings. Everything that differs between machines comes from the environment (see .env.example)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_redis_url, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

# Off unless asked for (DEBUG=1): a debug page shows settings, paths and every route to anyone.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(DEBUG, VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "channels",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here: /api/docs/ works offline
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "accounts",
    "strategies",
    "live_trading",
    "sessions_app",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.static.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.busy.DatabaseBusyMiddleware",  # last: a view's database OperationalError is a 503, not a 500
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"

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

# With DATABASE_URL unset, a real PostgreSQL runs embedded under var/pgdata (config/embedded_postgres).
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_postgres",
            "NAME": "postgres",
            "USER": "postgres",
            "EMBEDDED_DATA_DIR": str(VAR_DIR / "pgdata"),
        }
    }
# A pool, not a connection per thread: session threads borrow a connection for each batch they write
# and give it back, so 200 running sessions (and the stream) share at most DB_POOL_MAX connections and
# never pay a new connection's set-up (tens of milliseconds on the server) per write. A borrower waits up
# to DB_POOL_TIMEOUT seconds for a connection (the pool full, or the database gone) before it fails.
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "pool": {"min_size": 2, "max_size": env_int("DB_POOL_MAX", 20, minimum=2),
             "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1)},
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A request that found no connection in time (or the database gone) is answered 503 with this Retry-After
# (seconds), not 500 (config/busy.py).
DB_BUSY_RETRY_AFTER = env_int("DB_BUSY_RETRY_AFTER", 2, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Kolkata"  # the exchange's; the database stores UTC
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Our own modules, and the npm libraries the pages use (package.json, installed by `make setup` with
# `npm ci`), each under a vendor/ prefix: no CDN, no copy of a library in the repository.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/lightweight-charts", NODE_MODULES / "lightweight-charts" / "dist"),
    ("vendor/elkjs", NODE_MODULES / "elkjs" / "lib"),
    # The JSON editor's CodeMirror bundle, built by `make setup` (esbuild, see docs/pages.md).
    ("vendor/codemirror", BASE_DIR / "var" / "build" / "vendor" / "codemirror"),
]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by the app itself (whitenoise, config/static.py), DEBUG or not, straight from the apps' and
# STATICFILES_DIRS' folders: `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
# static/livesim/livesim.d.ts, TypeScript declarations, read as text (whitenoise's default for .ts is video/mp2t).
WHITENOISE_MIMETYPES = {".ts": "text/plain; charset=utf-8"}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

MARKET_DATA_DIR = Path(env_str("MARKET_DATA_DIR") or VAR_DIR / "market_data")
# The instruments' data file (docs/marketdata.md, "Other markets"): a copy of the package's
# live_trading/marketdata/data/underlyings.toml with tables of one's own (an FX pair); default: the package's.
UNDERLYINGS_FILE = Path(env_str("UNDERLYINGS_FILE")) if env_str("UNDERLYINGS_FILE") else None
# Generated (synthetic) market days are a cache, about 12 MB a day: after a start, the least recently
# used ones beyond this size are removed (never imported days, never a day an active session replays).
SYNTHETIC_CACHE_MB = env_int("SYNTHETIC_CACHE_MB", 1024, minimum=0)
# Synthetic days one user's starts may generate per window; a start needing more answers 429 (0: none).
SYNTHETIC_DAYS_PER_USER = env_int("SYNTHETIC_DAYS_PER_USER", 40, minimum=0)
SYNTHETIC_DAYS_WINDOW_SECONDS = env_int("SYNTHETIC_DAYS_WINDOW_SECONDS", 3600, minimum=1)
SERVER_PORT = env_int("PORT", 8000, minimum=1, maximum=65535)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Live trading simulation API",
    "DESCRIPTION": "Start strategies on replayed market data, read their state, and stop them. "
    "The event stream is described in docs/protocol.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Limits on what one user may ask of the server.
SIM_MAX_RUNNING_SESSIONS_PER_USER = env_int("SIM_MAX_RUNNING_SESSIONS_PER_USER", 10, minimum=1)
SIM_MAX_SPEED = env_int("SIM_MAX_SPEED", 10000, minimum=1)
SIM_MAX_DAYS_PER_SESSION = env_int("SIM_MAX_DAYS_PER_SESSION", 31, minimum=1)
# `manage.py serve` (make run) resumes the interrupted sessions when it starts (docs/runner.md).
SIM_RESUME_ON_START = env_bool("SIM_RESUME_ON_START", True)
# Leases (docs/runner.md): the owner of a running session renews it at least every RENEW seconds (every
# batch write renews it too); a lease unrenewed for LEASE seconds has expired, and GRACE seconds after
# that another live process adopts the session (SIM_ADOPT) and fences the old owner out.
SIM_LEASE_SECONDS = env_int("SIM_LEASE_SECONDS", 15, minimum=2)
SIM_LEASE_RENEW_SECONDS = env_int("SIM_LEASE_RENEW_SECONDS", 2, minimum=1)
SIM_LEASE_GRACE_SECONDS = env_int("SIM_LEASE_GRACE_SECONDS", 5, minimum=0)
SIM_ADOPT = env_bool("SIM_ADOPT", True)
# Tries of a batch write the database drops (docs/runner.md): each after the first borrows a connection from
# the pool, waiting up to its timeout (DB_POOL_TIMEOUT, 10 s, DATABASES above) while the database is gone;
# after the last, the session is interrupted with its rows kept.
SIM_WRITE_ATTEMPTS = env_int("SIM_WRITE_ATTEMPTS", 10, minimum=1)
if SIM_LEASE_RENEW_SECONDS * 2 > SIM_LEASE_SECONDS:
    raise ImproperlyConfigured("SIM_LEASE_RENEW_SECONDS must be at most half of SIM_LEASE_SECONDS")

# Control messages between server processes (live_trading.runner.control): in-process by default,
# on Redis when several processes serve the same sessions.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # The layer's receive blocks in Redis for up to 5 s (channels_redis' brpop_timeout); redis-py's
            # default socket timeout is 5 s too, so an idle wait timed out on the socket and dropped the
            # control listener's channel every few seconds (a new one each time, the old ones left in the
            # group). A read timeout above the blocking one still notices a Redis that stopped answering.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                       "prefix": env_str("REDIS_PREFIX", "livesim")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# ---- Event stream (live_trading.stream) -------------------------------------------------------
# Streams are served by live_trading.stream on top of django-eventstream's interfaces (its storage
# and channel-manager classes, its Last-Event-ID format, EVENTSTREAM_REDIS); docs/protocol.md.
INSTALLED_APPS += ["django_eventstream"]
EVENTSTREAM_STORAGE_CLASS = "live_trading.stream.storage.RingStorage"
EVENTSTREAM_CHANNELMANAGER_CLASS = "live_trading.stream.channels.StreamChannelManager"
# Origins allowed to open a stream from another site (external frontends), comma-separated.
EVENTSTREAM_ALLOW_ORIGINS = env_list("STREAM_ALLOW_ORIGINS", [])
EVENTSTREAM_ALLOW_CREDENTIALS = bool(EVENTSTREAM_ALLOW_ORIGINS)
if REDIS_URL:
    from redis.connection import parse_url as _parse_redis_url

    EVENTSTREAM_REDIS = _parse_redis_url(REDIS_URL)
STREAM_REDIS_PREFIX = env_str("REDIS_PREFIX", "livesim") + ":stream"
# Stored events kept per session for Last-Event-ID replay; a longer gap gets a fresh initial_state.
STREAM_REPLAY_WINDOW = env_int("STREAM_REPLAY_WINDOW", 100, minimum=1, maximum=100_000)
# Sessions whose replay window this process keeps in memory (least recently active dropped first).
STREAM_RING_SESSIONS = env_int("STREAM_RING_SESSIONS", 2000, minimum=10)
# At most this many tick_update per session per second reach a client (0: no ticks at all).
STREAM_TICK_RATE = env_int("STREAM_TICK_RATE", 4, minimum=0, maximum=1000)
# A heartbeat after this much silence on a stream, and the reconnection delay hinted to clients.
STREAM_HEARTBEAT_MS = env_int("STREAM_HEARTBEAT_MS", 30_000, minimum=100)
STREAM_RETRY_MS = env_int("STREAM_RETRY_MS", 3000, minimum=0)
# Stored events a stream may have queued before it re-reads the replay window instead (slow client).
STREAM_MAX_PENDING = env_int("STREAM_MAX_PENDING", 1000, minimum=10)
# Lifetime of the signed stream tokens that external frontends put in ?token=.
STREAM_TOKEN_MAX_AGE = env_int("STREAM_TOKEN_MAX_AGE", 300, minimum=10)
# Open streams are long-lived objects: freeze them out of the cyclic collector's full passes (a
# 90-165 ms pause with 500 streams), and collect them fully once every this many seconds (0: off).
STREAM_GC_REFREEZE_SECONDS = env_int("STREAM_GC_REFREEZE_SECONDS", 600, minimum=0)
# A GRIP front (Pushpin) holding the open streams (docs/deployment.md): the publish endpoints of every
# Pushpin, comma-separated (its push_in_http_port, e.g. http://127.0.0.1:5561), and the key Pushpin signs
# the requests it forwards with (its sig_key). Unset: the app holds the streams itself, as with `make run`.
GRIP_URLS = env_list("GRIP_URL", [])
GRIP_KEY = env_str("GRIP_KEY") or ""
if GRIP_URLS and len(GRIP_KEY) < 16:
    raise ImproperlyConfigured("GRIP_URL is set: set GRIP_KEY too, the key (16+ characters) of Pushpin's sig_key")
# Under daphne, send what a response writes at once rather than on the event loop's next turn
# (config/immediate_writes.py); off only to measure the difference.
IMMEDIATE_WRITES = env_bool("IMMEDIATE_WRITES", True)

# Content-Security-Policy on every response (Django's own middleware): scripts and styles only from
# this origin and never inline, so text a user typed can never run as script; nothing from another host.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
