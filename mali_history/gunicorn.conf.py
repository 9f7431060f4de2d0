"""Gunicorn settings for production and `make serve` (the Makefile passes --bind).

gunicorn's asgi worker keeps client connections alive and parses HTTP on an event loop, about
four times cheaper per request than its threaded WSGI worker (gthread) and far cheaper than the
default sync workers, which close every connection. On that loop, mali_history/asgi.py answers
cached pages for anonymous readers at once and runs Django's WSGI handler on a few threads for
everything else. Every value can be changed through an environment variable named after it,
GUNICORN_<NAME>.
"""
import os


def _int(name, default):
    return int(os.environ.get(f"GUNICORN_{name}", default))


wsgi_app = "mali_history.asgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "asgi"
# One process per core runs Python. In each, the threads Django runs on (GUNICORN_THREADS, read by
# mali_history/asgi.py, 4 by default) cover the time spent waiting on PostgreSQL and Redis.
workers = _int("WORKERS", os.cpu_count() or 1)
worker_connections = _int("WORKER_CONNECTIONS", 1000)
# Longer than nginx's idle upstream timeout (20 s in the example), so nginx closes first and
# never reuses a connection gunicorn is closing.
keepalive = _int("KEEPALIVE", 30)
timeout = _int("TIMEOUT", 30)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
# Workers are not restarted after a number of requests (0): at a few thousand requests a second
# any such limit means a restart every few seconds. Set GUNICORN_MAX_REQUESTS if memory grows.
max_requests = _int("MAX_REQUESTS", 0)
max_requests_jitter = _int("MAX_REQUESTS_JITTER", 1000)
# Import Django once before forking: faster start, shared memory. Connections to PostgreSQL
# and Redis are opened lazily, after the fork, so no worker shares a socket.
preload_app = True
# Heartbeat files in memory: a busy or slow disk must not make workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket by default: two instances on one machine (a benchmark beside a server)
# would otherwise share $HOME/.gunicorn/gunicorn.ctl.
control_socket_disable = "GUNICORN_CONTROL_SOCKET" not in os.environ
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
proc_name = "mali-history"

# Logs to stderr in the key=value shape of Django's own (settings.LOGGING). Access logs are
# off by default: nginx keeps them; GUNICORN_ACCESSLOG=- turns them on.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
access_log_format = 'remote=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s duration_us=%(D)s agent="%(a)s"'
# nginx on the same machine sets X-Forwarded-For/-Proto; trust them only from there.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
