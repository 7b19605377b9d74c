"""Settings for the chat site: one flat module, every deploy-time value from the environment.

Nothing needs to be set to run locally (SQLite, the in-process channel layer, the demo model).
README.md lists every variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from chatsite.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_sizes,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Lets `ModelAdmin[Conversation]` and the like, which the type checker wants, run as well.
django_stubs_ext.monkeypatch()

# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set")
    SECRET_KEY = "django-insecure-development-only-key-do-not-deploy"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",  # first: makes runserver serve ASGI
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",  # login throttling (chat/accounts.py)
    "channels",
    "chat",
]

# Every middleware here is async-capable, so async views and the event stream stay on the
# event loop (one sync-only middleware would push each request through a thread).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "chat.errorpages.site_error_pages",  # the site's 404 and 500 pages, under DEBUG too
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its page
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
WSGI_APPLICATION = None

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
                "chat.context_processors.chat_settings",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A pool: connections are taken per query and returned (CONN_MAX_AGE 0), never held by
        # an open stream, so hundreds of streams cannot exhaust max_connections (see
        # docs/ARCHITECTURE.md). 10 per process carried 200 concurrent
        # replies on two processes, and 9 processes fit PostgreSQL's default max_connections
        # (100, of which 3 are reserved for superusers).
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
                "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
                "timeout": env_float("DATABASE_POOL_TIMEOUT", 30.0, minimum=1.0),
            }
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str(
            "DATABASE_TEST_NAME", "test_chatsite"
        )
else:
    DATABASES = {
        "default": {
            # Django's, with this process's write transactions taking turns on a lock instead
            # of polling SQLite's (chat/server/sqlite3/base.py).
            "ENGINE": "chat.server.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # A file, not :memory:, so a daphne subprocess in the tests sees the same database.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3"))},
            # Kept open: requests share CHAT_REQUEST_THREADS threads (chat/server/threads.py), and
            # opening a connection costs about 2.5 ms of CPU.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CHANNEL_CAPACITY = env_int("CHAT_CHANNEL_CAPACITY", 1000, minimum=10)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis with a pool that waits for a free connection (chat/server/layer.py).
            "BACKEND": "chat.server.layer.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHAT_REDIS_CONNECTIONS", 200, minimum=2),
                        # Seconds a call waits for a free connection.
                        "timeout": env_float("CHAT_REDIS_POOL_TIMEOUT", 10.0, minimum=0.01),
                        # No socket timeout, as before redis-py 8 (which made it 5 s): an idle
                        # receive blocks in BZPOPMIN for 5 s and then failed with TimeoutError
                        # (django/channels_redis#422), and with any timeout set, redis-py sends
                        # through asyncio.wait_for, which on Python 3.11 can swallow the
                        # cancellation of a receive, leaving its task running for ever.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                    }
                ],
                "capacity": CHANNEL_CAPACITY,
                "expiry": 60,
                # Several sites (or test runs) can share one Redis under different prefixes.
                "prefix": env_str("REDIS_PREFIX", "chat"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            # One process: listeners read their reply's feed directly (chat/replies/feed.py);
            # the layer carries only a reply's `end`, the odd catch-up and user events' wake-ups
            # (channels' layer, skipping groups with no member: chat/server/layer.py).
            "BACKEND": "chat.server.layer.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY, "expiry": 60},
        }
    }

# --- Accounts -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins are counted per account and address (chat/accounts.py).
AXES_FAILURE_LIMIT = env_int("CHAT_LOGIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CHAT_LOGIN_LOCK_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "chat.accounts.client_ip"
AXES_LOCKOUT_CALLABLE = "chat.accounts.locked_out"
AXES_VERBOSE = False
# How many proxies (nginx) stand in front of daphne: the client's address is then taken
# from X-Forwarded-For, as the nearest proxy saw it.
CHAT_TRUSTED_PROXIES = env_int("CHAT_TRUSTED_PROXIES", 0, minimum=0)
# Sessions are read on every request (each API call, each event stream): from a cache, and
# from the database only on a miss; every write goes to both. The cache is this process's
# memory, or Redis when REDIS_URL is set, so that with several processes a logout through
# one ends the session in all of them.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20000},  # a few MB: more sessions are read from the database
    }
}
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("REDIS_PREFIX", "chat"),
    }
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"
CHAT_ALLOW_SIGNUP = env_bool("CHAT_ALLOW_SIGNUP", True)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Production defaults are the secure ones (manage.py check --deploy is clean); a deployment
# that terminates TLS elsewhere and redirects there can turn them off explicitly.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Submitting a domain to the browsers' preload list is the operator's decision, not a
    # default; the check would otherwise flag every deployment that has not made it.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "chat.apiutil.csrf_failure"  # JSON under /api/
# Hosts whose images replies may show (over https; ".example.com" for its subdomains too).
# Images from anywhere else are links, and the Content-Security-Policy refuses them.
CHAT_IMAGE_HOSTS = env_list("CHAT_IMAGE_HOSTS")
# Content-Security-Policy (django-csp): scripts, styles and connections from this origin
# only, no inline script or eval; images from here, data: URLs and CHAT_IMAGE_HOSTS (see
# chat/render.py); never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"]
        + [f"https://*{h}" if h.startswith(".") else f"https://{h}" for h in CHAT_IMAGE_HOSTS],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "chat" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# daphne serves /static/ itself unless a proxy in front does (see deploy/nginx.conf).
CHAT_SERVE_STATIC = env_bool("CHAT_SERVE_STATIC", True)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "chat": {
            "handlers": ["console"],
            "level": env_str("CHAT_LOG_LEVEL", "INFO"),
            "propagate": False,  # daphne also logs the root logger: once is enough
        }
    },
}

# --- Chat -----------------------------------------------------------------------------------
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 32_000, minimum=1)
CHAT_MAX_SYSTEM_PROMPT_CHARS = env_int("CHAT_MAX_SYSTEM_PROMPT_CHARS", 16_000, minimum=0)
CHAT_DEFAULT_MODEL = env_str("CHAT_DEFAULT_MODEL", "demo")
# The model that writes a conversation's title after its first exchange (chat/replies/
# titles.py): empty for the conversation's own model, "off" for none (the first message's
# words stay the title).
CHAT_TITLE_MODEL = env_str("CHAT_TITLE_MODEL", "")
CHAT_DEMO_TOKEN_DELAY = env_float("CHAT_DEMO_TOKEN_DELAY", 0.03)
CHAT_CHECKPOINT_INTERVAL = env_float("CHAT_CHECKPOINT_INTERVAL", 1.0, minimum=0.05)
CHAT_PING_INTERVAL = env_float("CHAT_PING_INTERVAL", 15.0, minimum=0.1)
CHAT_STREAM_MAX_AGE = env_float("CHAT_STREAM_MAX_AGE", 300.0, minimum=1.0)
# A reply's event stream served below Django's request handling when all is in order
# (chat/server/eventstream.py); false: always through Django's view.
CHAT_FAST_EVENT_STREAMS = env_bool("CHAT_FAST_EVENT_STREAMS", True)
CHAT_STALE_AFTER = env_float("CHAT_STALE_AFTER", 6.0, minimum=1.0)
CHAT_END_CHECK_INTERVAL = env_float("CHAT_END_CHECK_INTERVAL", 2.0, minimum=0.1)
CHAT_SHUTDOWN_GRACE = env_float("CHAT_SHUTDOWN_GRACE", 20.0)
CHAT_REQUEST_THREADS = env_int("CHAT_REQUEST_THREADS", 8, minimum=1)
CHAT_RENDER_WORKERS = env_int("CHAT_RENDER_WORKERS", 2, minimum=1)
CHAT_RENDER_TIMEOUT = env_float("CHAT_RENDER_TIMEOUT", 2.0, minimum=0.1)
CHAT_MAX_CONCURRENT_REPLIES = env_int("CHAT_MAX_CONCURRENT_REPLIES", 3, minimum=1)
CHAT_MESSAGES_PER_MINUTE = env_int("CHAT_MESSAGES_PER_MINUTE", 20, minimum=1)
CHAT_CONVERSATIONS_PER_MINUTE = env_int("CHAT_CONVERSATIONS_PER_MINUTE", 20, minimum=1)
CHAT_MAX_STREAMS_PER_USER = env_int("CHAT_MAX_STREAMS_PER_USER", 30, minimum=1)
# Input + output tokens a user may spend per day (0: no limit); per-user override in the admin.
CHAT_DAILY_TOKENS = env_int("CHAT_DAILY_TOKENS", 0, minimum=0)
# The currency that model prices (admin, Model prices) are given in, shown beside costs.
CHAT_CURRENCY = env_str("CHAT_CURRENCY", "USD")

# Upstream timeouts (seconds), shared by every provider.
CHAT_CONNECT_TIMEOUT = env_float("CHAT_CONNECT_TIMEOUT", 10.0, minimum=0.01)
CHAT_FIRST_BYTE_TIMEOUT = env_float("CHAT_FIRST_BYTE_TIMEOUT", 60.0, minimum=0.01)
CHAT_IDLE_TIMEOUT = env_float("CHAT_IDLE_TIMEOUT", 60.0, minimum=0.01)
CHAT_MAX_OUTPUT_TOKENS = env_int("CHAT_MAX_OUTPUT_TOKENS", 4096, minimum=1)
# Context sizes in tokens: `model=tokens` pairs, model ids as in /api/models, `*` for every
# model not named (chat/context.py; each protocol has its own default).
CHAT_CONTEXT_TOKENS = env_sizes("CHAT_CONTEXT_TOKENS")
# The largest file POST /api/import takes (ChatGPT's conversations.json grows large).
CHAT_IMPORT_MAX_BYTES = env_int("CHAT_IMPORT_MAX_BYTES", 50_000_000, minimum=1)

# --- Upstreams (each enabled by its key) ----------------------------------------------------
OPENAI_API_KEY = env_secret("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1")
OPENAI_MODELS = env_list("OPENAI_MODELS", "gpt-4o-mini,gpt-4o")
OPENAI_COMPLETIONS_MODELS = env_list("OPENAI_COMPLETIONS_MODELS")

ANTHROPIC_API_KEY = env_secret("ANTHROPIC_API_KEY")
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
ANTHROPIC_MODELS = env_list("ANTHROPIC_MODELS", "claude-sonnet-4-5,claude-haiku-4-5")

GEMINI_API_KEY = env_secret("GEMINI_API_KEY")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta")
GEMINI_MODELS = env_list("GEMINI_MODELS", "gemini-2.5-flash,gemini-2.5-pro")

SPARK_APP_ID = env_str("SPARK_APP_ID")
SPARK_API_KEY = env_secret("SPARK_API_KEY")
SPARK_API_SECRET = env_secret("SPARK_API_SECRET")
SPARK_URL = env_str("SPARK_URL", "wss://spark-api.xf-yun.com/v3.5/chat")
SPARK_DOMAIN = env_str("SPARK_DOMAIN", "generalv3.5")
# Spark's model ids are its domains (sent as parameter.chat.domain); one by default.
SPARK_MODELS = env_list("SPARK_MODELS", SPARK_DOMAIN)

# --- Moderation (chat/moderation.py) ----------------------------------------------------------
# off, words (CHAT_MODERATION_WORDS), openai (the moderation endpoint at OPENAI_BASE_URL), or
# the dotted path of a callable `check(text: str, kind: str) -> str | None` (kind "message" or
# "reply"; the reason when the text is refused, None when it passes; sync or async; raising
# means the service failed).
CHAT_MODERATION = env_str("CHAT_MODERATION", "off").strip() or "off"
CHAT_MODERATION_WORDS = env_list("CHAT_MODERATION_WORDS")
if CHAT_MODERATION == "words" and not CHAT_MODERATION_WORDS:
    raise ImproperlyConfigured("CHAT_MODERATION=words needs CHAT_MODERATION_WORDS (a list)")
if CHAT_MODERATION not in ("off", "words", "openai") and "." not in CHAT_MODERATION:
    raise ImproperlyConfigured(
        f"CHAT_MODERATION must be off, words, openai or a dotted path, not {CHAT_MODERATION!r}"
    )
# When the moderation service fails: `closed` refuses the message (or ends the reply), `open`
# lets it through. Logged either way.
CHAT_MODERATION_FAIL = env_str("CHAT_MODERATION_FAIL", "closed").strip().lower()
if CHAT_MODERATION_FAIL not in ("open", "closed"):
    raise ImproperlyConfigured(
        f"CHAT_MODERATION_FAIL must be open or closed, not {CHAT_MODERATION_FAIL!r}"
    )
CHAT_MODERATION_MODEL = env_str("CHAT_MODERATION_MODEL", "omni-moderation-latest")
CHAT_MODERATION_TIMEOUT = env_float("CHAT_MODERATION_TIMEOUT", 10.0, minimum=0.1)
# A streamed reply is checked at each sentence's end, or after this many characters without one.
CHAT_MODERATION_BATCH = env_int("CHAT_MODERATION_BATCH", 300, minimum=20)
