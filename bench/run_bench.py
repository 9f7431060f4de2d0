#!/usr/bin/env python3
"""Benchmark the public pages against nginx serving the same bytes; see bench/README.md.

    .venv/bin/python bench/run_bench.py [--duration 10] [--connections 32] [--output bench/RESULTS.md]
    .venv/bin/python bench/run_bench.py --quick      # 1 s per case, prints the report only
    .venv/bin/python bench/run_bench.py --dry-run    # the plan and nginx's configuration; starts nothing

Loads the demo and the seed article into a benchmark database (recreated on every run), starts
gunicorn twice as production runs it (mali_history/gunicorn.conf.py: its threaded worker and
Django's stock wsgi.py; production settings), once with the page cache on and once with it off,
and nginx (a static copy of the article, and the baked site), then runs wrk against each case on
loopback. Needs wrk and nginx on PATH, PostgreSQL and Redis running (or DATABASE_URL=sqlite:///
...bench... for SQLite). Only ratios between cases of one run are reported and judged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT / ".venv" / "bin"
SEED = PROJECT.parent / "shared" / "seeds" / "mali_military_deployments.txt"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mali_history_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
# gunicorn as mali_history/gunicorn.conf.py runs it on a 2-core machine: one process per core,
# a few threads in each.
WORKERS = 2
THREADS = 4

NGINX_CONF = """\
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;

    upstream django {{ server 127.0.0.1:{django_port}; keepalive 32; keepalive_timeout 4s; }}
    # As in deploy/nginx.conf.example: baked pages only for anonymous readers (GET or HEAD, no
    # query string, no session or messages cookie), as articles.publishing.caching.anonymous_reader has it.
    map "$request_method|$args|$cookie_sessionid|$cookie_messages" $baked_root {{
        "GET|||"  {tmp}/baked;
        "HEAD|||" {tmp}/baked;
        default   /nonexistent;
    }}
    server {{
        listen 127.0.0.1:{port};
        charset utf-8;
        location /copy/ {{ alias {tmp}/copy/; }}
        location / {{
            root $baked_root;
            try_files ${{uri}}index.html @django;
            add_header Cache-Control "max-age=0, must-revalidate, public" always;
        }}
        location @django {{
            proxy_pass http://django;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@dataclass
class Result:
    name: str
    url: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str = ""
    vs_static: float = 1.0  # rps over the static file's, measured just before this case
    cpu_us: float = 0.0  # the server's CPU time per request (its processes only), microseconds


def median_result(results: list[Result]) -> Result:
    """The median of several rounds of one case, field by field."""

    def mid(values):
        return statistics.median(values)

    return Result(
        results[0].name,
        results[0].url,
        mid([r.rps for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        "; ".join(r.errors for r in results if r.errors),
        mid([r.vs_static for r in results]),
        mid([r.cpu_us for r in results]),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd, env, **kwargs):
    print("$", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=PROJECT, check=True, **kwargs)


def wait_for(url, headers=None, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def recreate_database(url: str, env) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in Path(name).name:
        raise SystemExit(
            f"The benchmark drops and recreates its database: use one whose name contains 'bench', not {name!r}."
        )
    if parts.scheme.startswith("postgres"):
        admin = [
            "psql",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-d",
            "postgres",
            "-q",
        ]
        run([*admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], env)
        run([*admin, "-c", f'CREATE DATABASE "{name}"'], env)
    elif parts.scheme == "sqlite":
        Path("/" + name if not name.startswith("/") else name).unlink(missing_ok=True)
    else:
        raise SystemExit(f"Unsupported database: {parts.scheme}")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def cpu_ticks(master_pid: int) -> int:
    """User and system CPU ticks used so far by a server process and its children (workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == master_pid or int(fields[1]) == master_pid:
            total += int(fields[11]) + int(fields[12])
    return total


def wrk(name, url, args, headers=(), server_pid=None) -> Result:
    """Load ``url`` with wrk; also how much CPU the server (``server_pid`` and its workers) spent."""
    header_args = [arg for header in headers for arg in ("-H", header)]
    # A generous timeout: a slow page (the review queue) is measured, not counted as an error.
    base = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--timeout", "30s", *header_args]
    if args.warmup:
        subprocess.run([*base, "-d", f"{args.warmup}s", url], check=True, capture_output=True)
    ticks = cpu_ticks(server_pid) if server_pid else 0
    out = subprocess.run(
        [*base, "-d", f"{args.duration}s", "--latency", url], check=True, capture_output=True, text=True
    ).stdout
    ticks = cpu_ticks(server_pid) - ticks if server_pid else 0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = "; ".join(m.group(0).strip() for m in re.finditer(r"^\s*(Non-2xx.*|Socket errors.*)$", out, re.M))
    cpu_us = ticks / os.sysconf("SC_CLK_TCK") / max(requests, 1) * 1e6
    return Result(name, url, rps, p50, p99, errors, cpu_us=cpu_us)


def show(result: Result) -> None:
    print(
        f"  {result.name:<32} {result.rps:>9.0f} req/s  {result.vs_static:6.1%} of static  "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  server CPU {result.cpu_us:8.0f} µs/request  "
        f"{result.errors}",
        flush=True,
    )


def start_gunicorn(port, env, tmp, label):
    log = open(tmp / f"gunicorn-{label}.log", "w")  # noqa: SIM115 - the server writes to it until stopped
    process = subprocess.Popen(
        [
            VENV_BIN / "gunicorn",
            "-c",
            "mali_history/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
        ],
        env=env,
        cwd=PROJECT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    versions = {}
    for tool, cmd in (("nginx", ["nginx", "-v"]), ("wrk", ["wrk", "-v"])):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        versions[tool] = (proc.stdout + proc.stderr).strip().splitlines()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        **versions,
    }


# The stock reference: Django's own cache_page decorator on the article view reached 6.1% of the
# static file on a 2-core machine like the benchmark's; the site's page cache must do at least as well.
STOCK_CACHE_PAGE_REFERENCE = 0.061

# (key, label in the report, queries key in prepare.py's output)
CASES = [
    ("static", "nginx: static copy of the article (baseline)", None),
    ("baked", "nginx: statically published article (baked)", None),
    ("cached", "Django: article, page cache (Redis)", "article cached"),
    ("stock_cache_page", "Django: article, stock cache_page (reference, bench only)", "stock cache_page"),
    ("uncached", "Django: article, uncached", "article uncached"),
    ("bare", "Django: bare view, same bytes (bench only)", "bare view"),
    ("topic_cached", "Django: topic page, page cache", "topic cached"),
    ("topic_uncached", "Django: topic page, uncached", "topic uncached"),
    ("search", "Django: search", "search"),
    ("queue", "Django: admin review queue, 10,000 pending", None),
]

TARGETS = [
    "Statically published article (nginx try_files) ≥ 90% of the static file's requests per second",
    "Article through Django's page cache (Redis) ≥ 6% of the static file's (Django's stock cache_page "
    "reached 6.1% on this kind of machine; measured in the same run as a reference)",
    "Uncached article (page cache off) ≥ 10% of a bare Django view returning the same bytes, and ≤ 6 SQL queries",
    "Admin review queue: the same number of SQL queries at 10 and at 10,000 pending proposals",
]


def targets(results: dict[str, Result], queries: dict) -> list[str]:
    def verdict(ok):
        return "met" if ok else "**missed**"

    baked = results["baked"].vs_static
    cached = results["cached"].vs_static
    uncached_vs_bare = results["uncached"].vs_static / results["bare"].vs_static
    uncached_queries = queries["article uncached"]
    queue = queries["review queue"]
    queue_line = ", ".join(f"{count} at {int(size):,} pending" for size, count in queue.items())
    stock = results.get("stock_cache_page")
    stock_line = f"; stock cache_page in this run: {stock.vs_static:.1%}" if stock else ""
    return [
        f"- Statically published article ≥ 90% of the static file: {baked:.1%} — {verdict(baked >= 0.90)}",
        f"- Article through the page cache ≥ 6% of the static file: {cached:.1%} — {verdict(cached >= 0.06)} "
        f"(Django's stock cache_page: {STOCK_CACHE_PAGE_REFERENCE:.1%} on this kind of machine{stock_line})",
        f"- Uncached article ≥ 10% of the bare Django view: {uncached_vs_bare:.1%} — "
        f"{verdict(uncached_vs_bare >= 0.10)}",
        f"- Uncached article ≤ 6 queries: {uncached_queries} — {verdict(uncached_queries <= 6)}",
        f"- Review queue, constant queries: {queue_line} — {verdict(len(set(queue.values())) == 1)}",
    ]


def report(results: dict[str, Result], info: dict, args, env, setup: dict) -> str:
    queries = setup["queries"]
    rows = []
    for key, label, query_key in CASES:
        if key not in results:
            continue
        if key == "queue":
            query_count = str(list(queries["review queue"].values())[-1])
        elif key == "baked":
            query_count = "0"
        else:
            query_count = str(queries.get(query_key, "–")) if query_key else "–"
        r = results[key]
        rows.append(
            f"| {label} | {r.rps:,.0f} | {r.vs_static:.1%} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{r.cpu_us:,.0f} | {query_count} |"
        )
    errors = [f"- {r.name}: {r.errors}" for r in results.values() if r.errors]
    database = urlsplit(env["DATABASE_URL"]).scheme
    lines = [
        "# Benchmark results",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `bench/run_bench.py` "
        f"(wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per case after a "
        f"{args.warmup} s warm-up, loopback; gunicorn: {WORKERS} gthread workers × {THREADS} threads "
        f"(mali_history/gunicorn.conf.py, stock wsgi.py), production settings; "
        f"{'PostgreSQL' if database.startswith('postgres') else database} + Redis).",
        "",
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['ram_gib']} GiB RAM; Linux {info['kernel']}, "
        f"Python {info['python']}, {info['nginx']}, {info['wrk']}. wrk, nginx, gunicorn, PostgreSQL and Redis share "
        "these CPUs, so only ratios mean anything: each case's is to the static file measured just before "
        "it, so that other work on the machine weighs on both alike"
        f"{f'; figures are medians of {args.rounds} rounds' if args.rounds > 1 else ''}. Load average "
        f"(1 min) before and after: {info['load'][0][0]:.2f} / {info['load'][1][0]:.2f}.",
        "",
        f"Page: “{setup['article_title']}” ({setup['article_url']}, {setup['article_sections']} sections, "
        f"{setup['article_bytes']:,} bytes); topic {setup['topic_url']}. The baked file "
        f"{'has exactly' if setup['baked_same_bytes'] else 'does NOT have'} the bytes Django serves; the "
        f"stock cache_page reference's page has {setup.get('stock_cache_page_bytes', 0):,} bytes.",
        "",
        "| case | requests/s | vs static file | p50 ms | p99 ms | server CPU µs/request | SQL queries/request |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Server CPU is what the serving processes (nginx, or gunicorn's master and workers) used per "
        "request, not counting wrk, PostgreSQL or Redis: it shows where the time goes however busy the "
        "machine is.",
        "",
        "What answers each case: nginx sends the static copy and the baked file from disk. Every "
        "Django case goes through gunicorn's threaded worker and Django's stock WSGI handler. With the "
        "page cache on, `PublicPageCacheMiddleware` (first in MIDDLEWARE) answers from Redis before "
        "the rest of the stack runs. The stock cache_page reference is the same article view wrapped "
        "in Django's `cache_page` (Redis too), behind every middleware, on the server with the page "
        "cache off. The uncached article is rendered by Django from the stored fragments. The bare view "
        "returns the article's bytes behind the same middleware and does nothing else.",
        "",
        "## Targets",
        "",
        *targets(results, queries),
    ]
    if not setup.get("search_url"):
        lines += ["", "Search: not measured — the site has no search URL yet (`articles:search`)."]
    if errors:
        lines += ["", "## Errors reported by wrk", "", *errors]
    return "\n".join(lines) + "\n"


# As nginx sends them: the public host name (no port) and the scheme. Production settings redirect
# plain HTTP, and with SITE_URL's host the page has the same bytes as the baked file.
HTTPS = "X-Forwarded-Proto: https"
HOST = "Host: 127.0.0.1"


def cases_for(setup: dict, nginx: str, cached: str, uncached: str, pids: dict) -> dict:
    """Every case: key -> (name, URL, request headers, the pid of the server that answers it)."""
    article, topic = setup["article_url"], setup["topic_url"]
    django = [HTTPS, HOST]
    cases = {
        "static": ("static copy (nginx)", f"{nginx}/copy/article.html", [], pids["nginx"]),
        "baked": ("baked article (nginx)", f"{nginx}{article}", [], pids["nginx"]),
        "cached": ("article, page cache", f"{cached}{article}", django, pids["cached"]),
        # On the server with the page cache off: the middleware would otherwise answer first.
        "stock_cache_page": (
            "article, stock cache_page",
            f"{uncached}/bench/cache-page{article}",
            django,
            pids["uncached"],
        ),
        "uncached": ("article, uncached", f"{uncached}{article}", django, pids["uncached"]),
        "bare": ("bare view, same bytes", f"{uncached}/bench/bare-article/", django, pids["uncached"]),
        "topic_cached": ("topic, page cache", f"{cached}{topic}", django, pids["cached"]),
        "topic_uncached": ("topic, uncached", f"{uncached}{topic}", django, pids["uncached"]),
    }
    if setup.get("search_url"):
        cases["search"] = ("search", f"{cached}{setup['search_url']}", django, pids["cached"])
    cases["queue"] = (
        "review queue, 10,000 pending",
        f"{uncached}{setup['review_queue_url']}",
        [*django, f"Cookie: {setup['session_cookie']}"],
        pids["uncached"],
    )
    return cases


def dry_run(args) -> None:
    """What a run would measure and nginx's configuration for it, checked by nginx if it is installed."""
    setup = {
        "article_url": "/articles/ARTICLE/",
        "topic_url": "/topics/TOPIC/",
        "search_url": "/search/?q=MINUSMA",
        "review_queue_url": "/admin/articles/revision/",
        "session_cookie": "sessionid=…",
    }
    tmp = Path(tempfile.mkdtemp(prefix="mali-bench-dry-"))
    try:
        nginx_port, cached_port, uncached_port = free_port(), free_port(), free_port()
        cases = cases_for(
            setup,
            f"http://127.0.0.1:{nginx_port}",
            f"http://127.0.0.1:{cached_port}",
            f"http://127.0.0.1:{uncached_port}",
            {"nginx": 0, "cached": 0, "uncached": 0},
        )
        print(
            f"gunicorn: mali_history/gunicorn.conf.py, {WORKERS} workers × {THREADS} threads, on ports "
            f"{cached_port} (page cache on) and {uncached_port} (page cache off); nginx on {nginx_port}."
        )
        print(
            f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per case after "
            f"{args.warmup} s of warm-up, {args.rounds} round(s); each case right after the static file."
        )
        for key, (name, url, headers, _pid) in cases.items():
            print(f"  {key:<17} {name:<30} {url}  {' '.join(headers)}")
        print("Targets:", *(f"  - {target}" for target in TARGETS), sep="\n")
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workers=WORKERS, tmp=tmp, port=nginx_port, django_port=cached_port))
        if shutil.which("nginx"):
            checked = subprocess.run(["nginx", "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True)
            print(f"nginx -t: {'ok' if checked.returncode == 0 else checked.stderr.strip()}")
            if checked.returncode:
                raise SystemExit(1)
        else:
            print("nginx is not installed: its configuration was not checked.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per case (default 10).")
    parser.add_argument("--warmup", type=int, default=2, help="Seconds of warm-up before each case (0: none).")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Measure every case this many times and report each case's median (for a busy machine).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s per case, no warm-up, one round; prints the report without writing it (a smoke run).",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the cases, the targets and nginx's configuration check; start nothing.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Where to write the report (default bench/RESULTS.md; none with --quick).",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup, args.rounds = 1, 0, 1
    if args.output is None and not args.quick:
        args.output = PROJECT / "bench" / "RESULTS.md"
    if args.dry_run:
        return dry_run(args)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install -y wrk nginx-light).")

    tmp = Path(tempfile.mkdtemp(prefix="mali-bench-"))
    tmp.chmod(0o755)  # nginx's workers run as another user.
    django_env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        "DJANGO_CACHE_PREFIX": "mali-history-bench",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Baked pages show their address as this; prepare.py asks for pages with the same host.
        "DJANGO_SITE_URL": "https://127.0.0.1",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        "DJANGO_SERVE_MEDIA": "1",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_ARTICLE_FILE": str(tmp / "copy" / "article.html"),
        "PYTHONPATH": str(PROJECT),
    }
    for key in ("DJANGO_STATIC_PUBLISH_ROOT", "DJANGO_PAGE_CACHE"):
        django_env.pop(key, None)
    python = str(VENV_BIN / "python")
    processes = []
    try:
        print("== Setting up", flush=True)
        recreate_database(django_env["DATABASE_URL"], django_env)
        run([python, "manage.py", "migrate", "--noinput", "-v", "0"], django_env)
        run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], django_env)
        run([python, "manage.py", "load_demo"], django_env, stdout=subprocess.DEVNULL)
        run(
            [python, "manage.py", "import_article", str(SEED), "--publish", "--user", "moderator"],
            django_env,
            stdout=subprocess.DEVNULL,
        )
        (tmp / "copy").mkdir()
        prepared = run([python, "bench/prepare.py", str(tmp)], django_env, stdout=subprocess.PIPE, text=True)
        setup = json.loads(prepared.stdout)
        for path in tmp.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        print(json.dumps(setup["queries"]), flush=True)

        cached_port, uncached_port, nginx_port = free_port(), free_port(), free_port()
        processes.append(start_gunicorn(cached_port, {**django_env, "DJANGO_PAGE_CACHE": "1"}, tmp, "cached"))
        processes.append(start_gunicorn(uncached_port, {**django_env, "DJANGO_PAGE_CACHE": "0"}, tmp, "uncached"))
        (tmp / "nginx.conf").write_text(
            NGINX_CONF.format(workers=WORKERS, tmp=tmp, port=nginx_port, django_port=cached_port)
        )
        processes.append(
            subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"], cwd=tmp)
        )
        for port in (cached_port, uncached_port):
            wait_for(f"http://127.0.0.1:{port}{setup['article_url']}", {"X-Forwarded-Proto": "https"})
        wait_for(f"http://127.0.0.1:{nginx_port}/copy/article.html")

        cached_pid, uncached_pid, nginx_pid = (p.pid for p in processes)
        cases = cases_for(
            setup,
            *(f"http://127.0.0.1:{p}" for p in (nginx_port, cached_port, uncached_port)),
            {"nginx": nginx_pid, "cached": cached_pid, "uncached": uncached_pid},
        )
        load_before = os.getloadavg()
        rounds = {key: [] for key in cases}
        for round_number in range(1, args.rounds + 1):
            print(f"== Measuring, round {round_number} of {args.rounds} ({args.duration} s per case)", flush=True)
            for key, (name, url, headers, pid) in cases.items():
                if key == "static":
                    continue
                static_name, static_url, _, static_pid = cases["static"]
                static = wrk(static_name, static_url, args, server_pid=static_pid)
                result = wrk(name, url, args, headers, server_pid=pid)
                result.vs_static = result.rps / static.rps
                show(static)
                show(result)
                rounds["static"].append(static)
                rounds[key].append(result)
        results = {key: median_result(measured) for key, measured in rounds.items()}
        info = {**machine(), "load": (load_before, os.getloadavg())}
        text = report(results, info, args, django_env, setup)
        if any(result.errors for result in results.values()):
            for log in sorted(tmp.glob("gunicorn-*.log")):
                problems = [
                    line for line in log.read_text().splitlines() if re.search(r"Error|Exception|CRITICAL", line)
                ]
                if problems:
                    print(f"== {log.name} (last problems)", *problems[-10:], sep="\n")
        if args.output:
            args.output.write_text(text)
        print()
        print(text)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
