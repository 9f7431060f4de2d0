"""Settings for Mali History.

Everything that differs between a laptop and production comes from environment variables;
the defaults are safe for local work (SQLite file, debug on, console e-mail).
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

# Proxies whose X-Forwarded-For is believed (articles.content.clients): nginx on this machine, and
# the load balancer's addresses when app nodes sit behind one.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES", "127.0.0.1,::1")
# Who may read /metrics without signing in (articles.ops.health): the Prometheus server's address.
METRICS_ALLOWED_IPS = env_list("DJANGO_METRICS_ALLOWED_IPS", "127.0.0.1")
# Proposals each API token may send, per second, minute, hour or day (articles.api.auth).
API_WRITE_RATE = os.environ.get("DJANGO_API_WRITE_RATE", "60/h")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin, with the editorial desk's admin site (articles/admin_site.py).
    "articles.apps.EditorialAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # SearchVectorField (site search on PostgreSQL); harmless on SQLite, which uses FTS5.
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "markdownx",
    # Background tasks stored in the database (django.tasks' DatabaseBackend, below).
    "django_tasks_db",
    # Two-factor sign-in for staff: authenticator apps (TOTP) and single-use recovery codes
    # (articles/admin/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The API (articles/api/): in INSTALLED_APPS so that its docs page uses the Swagger UI files
    # it ships, served as static files here, rather than a CDN.
    "ninja",
    "articles",
]

MIDDLEWARE = [
    # /healthz for load balancers, and /metrics for METRICS_ALLOWED_IPS, answered before the host
    # is checked against ALLOWED_HOSTS: a balancer probes each node by its address (articles.ops.health).
    "articles.ops.health.HealthMiddleware",
    # Counts every response by status class for /metrics, page-cache hits included.
    "articles.ops.health.ResponseMetricsMiddleware",
    # Answers anonymous readers from the page cache before the rest runs, and stores pages with
    # every header the rest adds (articles.publishing.caching).
    "articles.publishing.caching.PublicPageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a public page comes from its address (/fr/...); the admin's from the browser.
    "articles.content.languages.InterfaceLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): was this session signed in with a second factor?
    "django_otp.middleware.OTPMiddleware",
    # A session signed in with the password alone, of someone who needs a second factor, is
    # taken back to the code or set-up step (articles.admin.two_factor).
    "articles.admin.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "mali_history.urls"

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
                "django.template.context_processors.csp",
                "articles.content.languages.languages",
            ],
        },
    },
]

WSGI_APPLICATION = "mali_history.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, reusing its Redis client (see mali_history/cache.py).
            "BACKEND": "mali_history.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_PREFIX", "mali-history"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Anonymous public pages are cached whole and invalidated on publish (articles.publishing.caching). The
# cache must be shared by every process, or one worker would keep serving what another has
# invalidated: so this is on by default only with Redis. A stored page lasts until a publish
# changes it, midnight, or DJANGO_PAGE_CACHE_TIMEOUT seconds.
PUBLIC_PAGE_CACHE = env_bool("DJANGO_PAGE_CACHE", default=bool(REDIS_URL))
PUBLIC_PAGE_CACHE_TIMEOUT = int(os.environ.get("DJANGO_PAGE_CACHE_TIMEOUT", 60 * 60 * 24))
# Static publishing (articles.publishing.baking): publishing also writes anonymous pages for nginx
# into the "baked" storage (STORAGES, below): a directory (DJANGO_STATIC_PUBLISH_ROOT), or any
# storage backend, e.g. DJANGO_BAKED_STORAGE=storages.backends.s3.S3Storage with its options as
# JSON in DJANGO_BAKED_STORAGE_OPTIONS, for several machines. Neither set: off.
STATIC_PUBLISH_ROOT = os.environ.get("DJANGO_STATIC_PUBLISH_ROOT", "")
BAKED_STORAGE = os.environ.get("DJANGO_BAKED_STORAGE", "")

# Background work (re-baking pages, search index updates, renditions, e-mail, scheduled
# publishing) runs on django.tasks. Tasks are rows in this database, written in the caller's
# transaction, and run by `manage.py db_worker` processes, any of which can take any task. The
# same backend runs everywhere: tests run the worker in-process (tests/conftest.py, run_worker).
# One queue: a worker takes only the queues it is given (db_worker's default is "default"), so
# a second queue would need workers of its own. Urgent work asks for a higher priority instead
# (@task(priority=...) or .using(priority=...), -100 to 100, default 0): workers always take
# the ready task of highest priority first, then the oldest.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The interface in English (no URL prefix) and French (/fr/...); content stays in the language it
# was written in, LANGUAGE_CODE (articles.content.languages).
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
# Each language writes dates one way on every page, notes included (mali_history/formats).
FORMAT_MODULE_PATH = ["mali_history.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Uploaded figures waiting for approval (articles.content.figure_files): never under MEDIA_ROOT,
# which the web server publishes; staff see them through a view that checks their permission.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("DJANGO_PRIVATE_MEDIA_ROOT", BASE_DIR / "private_media"))
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    # Any storage backend, e.g. DJANGO_MEDIA_STORAGE=storages.backends.s3.S3Storage with its
    # options as JSON in DJANGO_MEDIA_STORAGE_OPTIONS.
    "default": {
        "BACKEND": os.environ.get("DJANGO_MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(os.environ.get("DJANGO_MEDIA_STORAGE_OPTIONS") or "{}"),
    },
    # "baked" (added below when static publishing is on): the pages nginx serves to anonymous readers.
    # Pending figure uploads: any storage readers cannot reach, e.g. a private S3 bucket with
    # DJANGO_PRIVATE_MEDIA_STORAGE=storages.backends.s3.S3Storage and DJANGO_PRIVATE_MEDIA_STORAGE_OPTIONS.
    "private_media": {
        "BACKEND": os.environ.get("DJANGO_PRIVATE_MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(
            os.environ.get("DJANGO_PRIVATE_MEDIA_STORAGE_OPTIONS") or json.dumps({"location": str(PRIVATE_MEDIA_ROOT)})
        ),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

if STATIC_PUBLISH_ROOT or BAKED_STORAGE:
    STORAGES["baked"] = {
        "BACKEND": BAKED_STORAGE or "mali_history.storage.AtomicFileSystemStorage",
        "OPTIONS": json.loads(os.environ.get("DJANGO_BAKED_STORAGE_OPTIONS") or "{}")
        or {"location": STATIC_PUBLISH_ROOT, "base_url": None},
    }

# E-mail: SMTP through DJANGO_EMAIL_HOST when set; otherwise the console in development and
# the machine's own mail server (localhost:25) in production. DJANGO_EMAIL_BACKEND overrides.
if os.environ.get("DJANGO_EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["DJANGO_EMAIL_HOST"],
                "port": int(os.environ.get("DJANGO_EMAIL_PORT", "587")),
                "username": os.environ.get("DJANGO_EMAIL_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", True),
            },
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", "port": 25},
        }
    }
if os.environ.get("DJANGO_EMAIL_BACKEND"):
    MAILERS["default"] = {"BACKEND": os.environ["DJANGO_EMAIL_BACKEND"]}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Mali History <editors@localhost>")
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000")

# import_article refuses larger files and files with more sections (--max-bytes and --max-sections
# raise them for one import): everything imported is reviewed by a person, on one page.
ARTICLE_IMPORT_MAX_BYTES = int(os.environ.get("ARTICLE_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
ARTICLE_IMPORT_MAX_SECTIONS = int(os.environ.get("ARTICLE_IMPORT_MAX_SECTIONS", 500))
# Share links for reviewers without an account (articles.revisions.sharing): how long a new one works.
SHARE_LINK_DAYS = int(os.environ.get("DJANGO_SHARE_LINK_DAYS", 14))

# Figures: uploads are validated and re-encoded by articles.images.
FIGURE_MAX_UPLOAD_BYTES = int(os.environ.get("FIGURE_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))
FIGURE_MAX_PIXELS = 40_000_000
FIGURE_MAX_SIDE = 8000
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

MARKDOWNX_MARKDOWNIFY_FUNCTION = "articles.content.markup.markdownify"
MARKDOWNX_MEDIA_PATH = "figures/"
MARKDOWNX_UPLOAD_MAX_SIZE = FIGURE_MAX_UPLOAD_BYTES
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp"]
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (FIGURE_MAX_SIDE, FIGURE_MAX_SIDE), "quality": 88}
MARKDOWNX_EDITOR_RESIZABLE = True

LOGIN_URL = "admin:login"

# Two-factor sign-in (articles/admin/two_factor.py). Any staff member may turn it on; for members of
# these groups (comma-separated names, e.g. "Moderator") and for every superuser it is required:
# after the password they set it up before anything else. Empty (the default): required for no one.
MALI_HISTORY_REQUIRE_2FA_FOR = env_list("MALI_HISTORY_REQUIRE_2FA_FOR")
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = os.environ.get("MALI_HISTORY_2FA_ISSUER", "Mali History")
# Keys and recovery codes never appear in the admin's own device lists.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Security headers. The public pages carry no inline script or style; the admin gets nonces.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the domain and all its subdomains to HTTPS in browsers for months;
        # that is the operator's decision (DJANGO_HSTS_PRELOAD=1), not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "format": "time=%(asctime)s level=%(levelname)s logger=%(name)s message=%(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
SERVE_MEDIA = env_bool("DJANGO_SERVE_MEDIA", default=DEBUG)
