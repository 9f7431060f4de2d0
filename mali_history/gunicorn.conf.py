"""Gunicorn settings for production and `make serve` (the Makefile passes --bind).

gunicorn's standard threaded worker (gthread) runs Django's stock WSGI application
(mali_history/wsgi.py) behind nginx (deploy/nginx.conf.example). Every value can be changed
through an environment variable named after it, GUNICORN_<NAME>.
"""

import os


def _int(name, default):
    return int(os.environ.get(f"GUNICORN_{name}", default))


wsgi_app = "mali_history.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads in each process: they wait on PostgreSQL and Redis while another one runs Python, and
# the worker keeps idle keep-alive connections without tying up a thread.
worker_class = "gthread"
# One process per core (2 on a 2-core machine): only one thread of a process runs Python at a time.
workers = _int("WORKERS", os.cpu_count() or 1)
threads = _int("THREADS", 4)
# nginx keeps its upstream connections to gunicorn alive (keepalive in the upstream block) and
# closes idle ones after 4 s, before gunicorn's 5 s here, so it never reuses a connection that
# gunicorn is closing.
keepalive = _int("KEEPALIVE", 5)
# A request still running after 30 s gets its worker restarted; nginx gives up a little later.
timeout = _int("TIMEOUT", 30)
# On a restart or deploy (SIGHUP, SIGTERM), requests under way get this long to finish.
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
# Workers are not restarted after a number of requests unless asked (GUNICORN_MAX_REQUESTS).
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
# nginx sets X-Forwarded-For/-Proto; trust them only from it: the machine itself by default, or
# the proxies Django trusts (DJANGO_TRUSTED_PROXIES: the load balancer, with several app nodes).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or os.environ.get("DJANGO_TRUSTED_PROXIES", "127.0.0.1,::1")


def child_exit(server, worker):
    """Metrics from several worker processes (articles.publishing.metrics) are added up from files
    in PROMETHEUS_MULTIPROC_DIR. When a worker exits, its counters and histograms stay there (a
    total never goes down) and the library drops what held only for live processes. The directory
    is emptied before gunicorn starts (deploy/mali-history-web.service), never while it runs."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
