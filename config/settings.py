"""Django settings for Netbuilder.

Everything that differs between a laptop and a deployment comes from environment variables, with
defaults that are safe for local use (see the README's configuration table):

    DEBUG            true locally; set false in production
    SECRET_KEY       required when DEBUG is false; a local key is kept in var/ otherwise
    ALLOWED_HOSTS    comma-separated host names
    CSRF_TRUSTED_ORIGINS  comma-separated origins (https://example.org), optional
    DATABASE_URL     any dj-database-url URL; SQLite in var/ by default
    REDIS_URL        Celery broker, result backend and channel layer
    SECURE_COOKIES   with DEBUG off: send cookies over HTTPS only (true)
    SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS, SECURE_HSTS_PRELOAD  with DEBUG off: HTTPS redirect and HSTS
    LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, TRUSTED_PROXY_COUNT  login throttling (docs/deploy.md)
    LOG_LEVEL        console log level (INFO)
"""

import importlib.util
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from builder.graph.limits import Limits

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def dev_secret_key() -> str:
    """A random key for local use, kept in var/ so that logins survive a restart."""
    path = VAR_DIR / "dev-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(key)
        tmp.chmod(0o600)
        os.replace(tmp, path)  # two processes starting at once both end with one of the keys
        return path.read_text().strip()


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off Netbuilder refuses to start without one: set the "
            "SECRET_KEY environment variable to a long random string, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = dev_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first: its runserver serves ASGI (websockets) too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",  # login throttling
    "csp",  # the Content-Security-Policy header
    "ninja",  # serves the API docs page's Swagger files locally, not from a CDN
    "accounts",
    "builder",
    "training",
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
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out login into the lockout page
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Database: DATABASE_URL (postgres://user@host:5432/name, sqlite:////abs/path.sqlite3, ...).
# conn_max_age stays 0: persistent connections are unsafe under ASGI.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests share their database with a real worker and server process: it must be a file, not memory.
    # One file per test session, so that two sessions on one checkout don't share it.
    test_db = Path(tempfile.gettempdir()) / f"netbuilder-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(test_db)}
    # The web server and a Celery worker write at the same time: WAL plus IMMEDIATE transactions
    # and a lock timeout keep SQLite from answering "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Logins are throttled by django-axes, per account and per client address independently: after
# LOGIN_FAILURE_LIMIT failures in a row, that username and that address get the lockout page (429) for
# LOGIN_LOCKOUT_MINUTES, counted from the last failure; a successful login clears the account's count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out attempt before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.throttle.locked_out"  # templates/registration/locked_out.html, 429
AXES_VERBOSE = False  # quieter: no start-up banner; lockouts are still logged as warnings
# The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the one X-Forwarded-For
# names that many entries from the right (without a proxy the header is ignored: anyone can send it).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (served by WhiteNoise) and media (run artifacts, through Django's storage API).
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.min.js comes from the plotly package itself: /static/plotly/plotly.min.js, no CDN, no copy.
    ("plotly", Path(importlib.util.find_spec("plotly").submodule_search_locations[0]) / "package_data"),
]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing one before the first collectstatic

# Redis: one URL for the Celery broker, its result backend and the Channels layer.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8's default 5 s socket timeout equals channels-redis's 5 s blocking read and
            # kills idle websockets; no socket timeout avoids it.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            # Above capacity, messages are dropped silently: step events must be throttled anyway.
            "capacity": 1000,
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_QUEUES = {
    "cpu": {"exchange": "cpu", "routing_key": "cpu"},
    "gpu": {"exchange": "gpu", "routing_key": "gpu"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24

if not DEBUG:
    # Deployed behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Cookies only over HTTPS; SECURE_COOKIES=false only to try a deployment over plain http://localhost.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a proxy that already redirects http:// to https://, these two can stay off; docs/deploy.md
    # gives the production values (`manage.py check --deploy` is clean with them).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30))
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)  # the preload list wants a year's max-age
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response: scripts, styles, images and connections from this origin only,
# no inline script, no eval, no plugins, no framing. Page data travels in <script type="application/json">
# (json_script), which is data, not script. Plotly's and Cytoscape's injected stylesheets are served as files
# instead (static/css/plotly.css, cytoscape.css), so styles need no 'unsafe-inline' either; style properties
# set from script (the CSSOM) are not inline styles. data: images: the inline favicon. No 'unsafe-eval':
# Plotly's one eval is in its map traces' worker loader, which the dashboard never reaches.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],  # includes ws(s):// to this host
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Artifacts (checkpoints, downloads, uploaded datasets) go through Django's storage API: the local folder
# MEDIA_ROOT (a volume shared by web server and workers) by default, or an S3-compatible bucket through
# django-storages (pip extra `s3`) when STORAGE_S3_BUCKET is set. Static files: WhiteNoise, hashed in production.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if os.environ.get("STORAGE_S3_BUCKET"):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ["STORAGE_S3_BUCKET"],
        "endpoint_url": os.environ.get("STORAGE_S3_ENDPOINT_URL") or None,  # MinIO, Ceph, R2, ...
        "region_name": os.environ.get("STORAGE_S3_REGION") or None,
        "access_key": os.environ.get("STORAGE_S3_ACCESS_KEY") or None,
        "secret_key": os.environ.get("STORAGE_S3_SECRET_KEY") or None,
        "default_acl": "private", "querystring_auth": True, "file_overwrite": True,
    }}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every login at INFO; its warnings (a lockout) are what matters.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Training runs.
RUN_TIME_LIMIT = int(os.environ.get("RUN_TIME_LIMIT", 6 * 3600))  # seconds a run may train
RUN_HEARTBEAT_TIMEOUT = int(os.environ.get("RUN_HEARTBEAT_TIMEOUT", 60))  # silence after which a run is lost
RUN_MAX_QUEUE_WAIT = int(os.environ.get("RUN_MAX_QUEUE_WAIT", 600))  # seconds a GPU run waits for a GPU worker
RUNS_MAX_ACTIVE_PER_USER = int(os.environ.get("RUNS_MAX_ACTIVE_PER_USER", 4))  # queued or running at once
DATASET_CACHE_DIR = Path(os.environ.get("DATASET_CACHE_DIR", VAR_DIR / "datasets"))
DATASET_DOWNLOADS = env_bool("DATASET_DOWNLOADS", True)  # fetch MNIST once into the cache if missing
# Base URLs to fetch the IDX files from instead of their usual hosts (a local mirror), by dataset.
DATASET_MIRRORS = {name: url for name, url in (("mnist", os.environ.get("MNIST_MIRROR", "")),
                                               ("fashion_mnist", os.environ.get("FASHION_MNIST_MIRROR", ""))) if url}
RUN_MAX_EPOCHS = int(os.environ.get("RUN_MAX_EPOCHS", 1000))
# torch threads per training run; 0 leaves torch's default (every core). On a machine shared with the web
# server or other workers, 1 thread is steadier: 2 threads beside another busy process fell to 0.3x here.
TRAIN_THREADS = int(os.environ.get("TRAIN_THREADS", 0))
RUN_MAX_MEMORY_BYTES = int(os.environ.get("RUN_MAX_MEMORY_BYTES", 16 * 2**30))  # estimated training memory
# A CPU run trains in the worker's RAM: by default at most half of this machine's memory.
CPU_RUN_MAX_MEMORY_BYTES = int(os.environ.get("CPU_RUN_MAX_MEMORY_BYTES",
                                              os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2))
# Uploaded datasets: parsed once, on upload, into arrays in storage (X.npy, y.npy); never unpickled.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 50_000_000))  # the file; the request body a little more
UPLOAD_MAX_ZIP_ENTRIES = int(os.environ.get("UPLOAD_MAX_ZIP_ENTRIES", 100_000))
UPLOAD_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("UPLOAD_MAX_UNCOMPRESSED_BYTES", 500_000_000))
UPLOAD_MAX_IMAGE_PIXELS = int(os.environ.get("UPLOAD_MAX_IMAGE_PIXELS", 4096 * 4096))
UPLOAD_MAX_CSV_ROWS = int(os.environ.get("UPLOAD_MAX_CSV_ROWS", 1_000_000))
UPLOAD_MAX_CSV_COLUMNS = int(os.environ.get("UPLOAD_MAX_CSV_COLUMNS", 1_000))
# Budgets checked from the headers before anything is decoded: the dataset's arrays (float32 features, int64
# labels, all parts together) and the pixels of all its images at their stored sizes.
UPLOAD_MAX_DECODED_BYTES = int(os.environ.get("UPLOAD_MAX_DECODED_BYTES", 1_000_000_000))
UPLOAD_MAX_TOTAL_PIXELS = int(os.environ.get("UPLOAD_MAX_TOTAL_PIXELS", 200_000_000))
# Imported models (POST /api/networks/import): an ONNX file, parsed with the onnx package, never run.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 200_000_000))
# Request bodies other than uploads; a larger one is refused (413) before it is read (config/body_limit.py).
REQUEST_MAX_BYTES = int(os.environ.get("REQUEST_MAX_BYTES", 5_000_000))
# Uploaded files go to disk as they arrive, never into memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
# Graphs: GRAPH_MAX_NODES, GRAPH_MAX_EDGES, GRAPH_MAX_PARAMS and GRAPH_MAX_BYTES, read by the graph core itself,
# so the standalone CLI holds the same limits as the server, the workers and `manage.py train`.
GRAPH_LIMITS = Limits.from_env()
NETWORK_MAX_VERSIONS = int(os.environ.get("NETWORK_MAX_VERSIONS", 1000))  # saved versions of one network
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES  # JSON bodies (graphs); files go through UPLOAD_MAX_BYTES
# A Redis message stays invisible while its (acked-late) task runs: longer than any run may take.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RUN_TIME_LIMIT + 3600}
