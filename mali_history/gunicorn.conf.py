"""Gunicorn settings for production and `make serve` (the Makefile passes --bind).

Threaded workers (gthread) keep client connections alive between requests; the default sync
workers close every connection, which costs about 2.7 times the throughput when the client or a
proxy (nginx, see deploy/nginx.conf.example) would otherwise reuse it. Every value can be
changed through an environment variable named after it, GUNICORN_<NAME>.
"""
import os


def _int(name, default):
    return int(os.environ.get(f"GUNICORN_{name}", default))


wsgi_app = "mali_history.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core runs Python; a few threads each cover the time spent waiting on
# PostgreSQL and Redis.
workers = _int("WORKERS", os.cpu_count() or 1)
threads = _int("THREADS", 4)
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
