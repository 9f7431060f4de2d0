#!/usr/bin/env python3
"""Load and faults: the article page under wrk while content is published, a worker dies and PostgreSQL restarts.

    .venv/bin/python bench/load_faults.py [--duration 60] [--publishes 50] [--connections 32]
                                          [--skip-postgres-restart] [--output bench/LOAD_FAULTS.md]

Loopback only, bounded in time (about three minutes; a hard limit aborts after 15). It creates its
own PostgreSQL database (mali_history_load_faults, dropped at the end) and uses Redis database 2
under its own key prefix, so it never touches another run's data. Needs wrk, PostgreSQL and
Redis on 127.0.0.1, and root (or the postgres user) for the PostgreSQL restart.

1. Publishing under load. gunicorn (mali_history/gunicorn.conf.py, production settings: DEBUG off,
   page cache in Redis) serves the demo; wrk loads the article page for ``--duration`` seconds with
   a Lua script that counts 5xx answers and pages without their closing ``</html>``. Meanwhile a
   Django process publishes ``--publishes`` revisions of one section through
   ``articles.revisions.moderation.publish_directly`` (each adds "Load marker N."), and after each one polls
   the page until the new text shows, measuring the delay. Two more pollers read the page all the
   time and count answers still showing an older marker more than 1 s after a publish.
2. A worker killed (SIGKILL) mid-load: only the requests in flight on it may fail; the master
   starts a new one (time measured).
3. PostgreSQL restarted mid-load (``pg_ctlcluster --skip-systemctl-redirect <ver> main restart``):
   the cached article page keeps being served; the uncached history page fails while the database
   is down and comes back on its own (time measured).

Prints the figures and writes them to ``--output`` (bench/LOAD_FAULTS.md). Exit status 1 when a
criterion fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
DATABASE = "mali_history_load_faults"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/2"
CACHE_PREFIX = "load-faults"
WORKERS = 2
HARD_LIMIT = 15 * 60
MARKER = re.compile(rb"Load marker (\d+)\.")

WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) responses = 0; server_errors = 0; other_status = 0; incomplete = 0 end
function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then server_errors = server_errors + 1
  elseif status ~= 200 then other_status = other_status + 1
  elseif not string.find(body, "</html>", 1, true) then incomplete = incomplete + 1 end
end
function done(summary, latency, requests)
  local total = {responses = 0, server_errors = 0, other_status = 0, incomplete = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + thread:get(name) end
  end
  io.write(string.format(
    'LOADFAULTS {"responses": %d, "server_errors": %d, "other_status": %d, "incomplete": %d, ' ..
    '"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    total.responses, total.server_errors, total.other_status, total.incomplete, summary.requests,
    summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""

# Run in its own process with the server's settings: publishes and measures when readers see it.
PUBLISHER = r"""
import http.client, json, re, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from articles.ops import demo
from articles.revisions import moderation
from articles.models import Article

port, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
marker = re.compile(rb"Load marker (\d+)\.")
article = Article.objects.get(slug=demo.ARTICLE["slug"])
section = article.sections.published().order_by("position", "pk").first()
moderator = get_user_model().objects.get(username="moderator")
original = section.body
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
path = article.get_absolute_url()
start = time.monotonic()
for number in range(1, count + 1):
    due = start + (number - 1) * interval
    time.sleep(max(0, due - time.monotonic()))
    section.refresh_from_db()
    began = time.time()
    moderation.publish_directly(obj=section, moderator=moderator, summary=f"Load marker {number}",
                                data={**section.snapshot(), "body": f"{original}\n\nLoad marker {number}."})
    committed = time.time()
    polls = 0
    while True:
        polls += 1
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        found = [int(m) for m in marker.findall(body)]
        if answer.status == 200 and found and max(found) >= number:
            seen = time.time()
            break
        if time.time() - committed > 30:
            seen = None
            break
    print(json.dumps({"number": number, "began": began, "committed": committed, "seen": seen,
                      "publish_s": committed - began, "delay_s": None if seen is None else seen - committed,
                      "polls": polls}), flush=True)
"""


@dataclass
class Reading:
    started: float
    ended: float
    status: int
    complete: bool
    marker: int | None


@dataclass
class Poller:
    """Reads one page in a loop on a kept-alive connection, recording every answer."""

    port: int
    path: str
    pause: float = 0.0
    readings: list[Reading] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            started = time.time()
            try:
                connection.request("GET", self.path)
                answer = connection.getresponse()
                body = answer.read()
                found = [int(m) for m in MARKER.findall(body)]
                self.readings.append(
                    Reading(
                        started,
                        time.time(),
                        answer.status,
                        body.rstrip().endswith(b"</html>"),
                        max(found) if found else None,
                    )
                )
            except (OSError, http.client.HTTPException):
                self.readings.append(Reading(started, time.time(), 0, False, None))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            if self.pause:
                time.sleep(self.pause)
        connection.close()

    def start(self):
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=PROJECT, check=True, **kwargs)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
        check=True,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )


def client_connections(port: int, pid: int) -> int:
    """Established client connections to ``port`` that process ``pid`` holds (from ss)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    return sum(1 for line in out.splitlines() if f"pid={pid}," in line)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if path.exists():
        return [int(p) for p in path.read_text().split()]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_until_up(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {path} within {timeout} s")


def wrk(port, path, seconds, connections, lua: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}{path}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wrk_result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=HARD_LIMIT)
    match = re.search(r"^LOADFAULTS (\{.*\})$", out, re.M)
    if not match:
        raise SystemExit(f"wrk gave no result:\n{out}")
    result = json.loads(match.group(1))
    result["failed"] = (
        result["server_errors"]
        + result["connect_errors"]
        + result["read_errors"]
        + result["write_errors"]
        + result["timeouts"]
        + result["incomplete"]
    )
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def postgres_cluster() -> tuple[str, str]:
    for line in subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return version, name
    raise SystemExit("No PostgreSQL cluster on port 5432")


def cleanup_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{CACHE_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


# --- Phases ----------------------------------------------------------------------------------


def publishing_under_load(args, port, path, env, lua) -> dict:
    pollers = [Poller(port, path) for _ in range(2)]
    load = wrk(port, path, args.duration, args.connections, lua)
    time.sleep(2)  # let wrk reach full speed first
    for poller in pollers:
        poller.start()
    interval = (args.duration - 6) / args.publishes
    publisher = subprocess.run(
        [PYTHON, "-c", PUBLISHER, str(port), str(args.publishes), str(interval)],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=args.duration + 120,
    )
    if publisher.returncode:
        raise SystemExit(f"The publisher failed:\n{publisher.stderr[-3000:]}")
    publishes = [json.loads(line) for line in publisher.stdout.splitlines() if line.startswith("{")]
    load_result = wrk_result(load)
    for poller in pollers:
        poller.stop.set()
    time.sleep(0.5)

    readings = [r for poller in pollers for r in poller.readings]
    committed = [(p["number"], p["committed"]) for p in publishes]
    stale = 0
    for reading in readings:
        # The newest marker published more than a second before this request started.
        due = max((number for number, at in committed if at + 1.0 <= reading.started), default=None)
        if due is not None and reading.status == 200 and (reading.marker or 0) < due:
            stale += 1
    delays = [p["delay_s"] for p in publishes if p["delay_s"] is not None]
    return {
        "wrk": load_result,
        "publishes": len(publishes),
        "never_seen": sum(p["seen"] is None for p in publishes),
        "delay_max_s": max(delays, default=None),
        "delay_median_s": sorted(delays)[len(delays) // 2] if delays else None,
        "publish_median_s": sorted(p["publish_s"] for p in publishes)[len(publishes) // 2] if publishes else None,
        "poller_readings": len(readings),
        "poller_errors": sum(r.status == 0 or r.status >= 500 or not r.complete for r in readings),
        "stale_after_1s": stale,
    }


def worker_killed_under_load(args, port, path, master: int, lua) -> dict:
    poller = Poller(port, path)
    poller.start()
    load = wrk(port, path, args.fault_duration, args.connections, lua)
    time.sleep(args.fault_duration / 3)
    workers = children(master)
    victim = workers[0]
    # Each connection has at most one request in flight: these are all the requests that may fail.
    held = client_connections(port, victim)
    killed_at = time.time()
    os.kill(victim, signal.SIGKILL)
    respawn_s = None
    while time.time() - killed_at < 30:
        current = children(master)
        if len(current) == WORKERS and victim not in current:
            respawn_s = time.time() - killed_at
            break
        time.sleep(0.02)
    result = wrk_result(load)
    poller.stop.set()
    time.sleep(0.3)
    failed_polls = [r for r in poller.readings if r.status == 0 or r.status >= 500 or not r.complete]
    return {
        "wrk": result,
        "workers_before": len(workers),
        "respawn_s": respawn_s,
        "poller_readings": len(poller.readings),
        "poller_errors": len(failed_polls),
        "in_flight_bound": held,
    }


class DatabaseWatch:
    """Opens a fresh connection to PostgreSQL every 50 ms: when was the database itself down?"""

    def __init__(self):
        self.readings: list[tuple[float, bool]] = []
        self.stop = threading.Event()

    def run(self):
        import psycopg

        while not self.stop.is_set():
            at = time.time()
            try:
                psycopg.connect(f"{PG}/postgres", connect_timeout=1).close()
                self.readings.append((at, True))
            except psycopg.Error:
                self.readings.append((at, False))
            time.sleep(0.05)

    def start(self):
        threading.Thread(target=self.run, daemon=True).start()

    def back_at(self) -> float | None:
        """When connections succeeded again after the last refused one."""
        down = [at for at, ok in self.readings if not ok]
        if not down:
            return None
        return next((at for at, ok in self.readings if ok and at > down[-1]), None)


def postgres_restarted_under_load(args, port, article_path, history_path, lua) -> dict:
    version, cluster = postgres_cluster()
    database = DatabaseWatch()
    database.start()
    history = Poller(port, history_path, pause=0.05)
    history.start()
    load = wrk(port, article_path, args.fault_duration, args.connections, lua)
    time.sleep(args.fault_duration / 4)
    began = time.time()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    restarted = time.time()
    result = wrk_result(load)
    time.sleep(1)
    history.stop.set()
    database.stop.set()
    time.sleep(0.3)
    readings = history.readings
    failures = [r for r in readings if r.status != 200 or not r.complete]
    database_back = database.back_at()
    down = [at for at, ok in database.readings if not ok]
    good_after = [r for r in readings if database_back and r.started >= database_back and r.status == 200]
    return {
        "wrk": result,
        "restart_s": restarted - began,
        "database_down_s": (database_back - down[0]) if database_back and down else None,
        "history_readings": len(readings),
        "history_failures": len(failures),
        "history_outage_s": (failures[-1].ended - failures[0].started) if failures else 0.0,
        "history_failures_after_database_back": sum(
            1 for r in failures if database_back and r.started >= database_back
        ),
        # From PostgreSQL accepting connections again to the first good uncached page: no restart of ours.
        "recovered_after_database_back_s": (good_after[0].ended - database_back) if good_after else None,
    }


# --- Report ----------------------------------------------------------------------------------


def verdicts(publishing, killed, restarted) -> list[tuple[str, bool, str]]:
    w = publishing["wrk"]
    rows = [
        (
            "no 5xx while publishing",
            w["server_errors"] == 0 and publishing["poller_errors"] == 0,
            f"{w['server_errors']} of {w['responses']} wrk responses, {publishing['poller_errors']} of "
            f"{publishing['poller_readings']} poller responses",
        ),
        (
            "every page complete (</html>)",
            w["incomplete"] == 0 and w["failed"] == 0,
            f"{w['incomplete']} incomplete, {w['failed'] - w['incomplete']} socket errors/timeouts",
        ),
        (
            "new text visible within 1 s of each publish",
            publishing["delay_max_s"] is not None
            and publishing["delay_max_s"] < 1.0
            and publishing["never_seen"] == 0
            and publishing["stale_after_1s"] == 0,
            f"{publishing['publishes']} publishes; delay median {publishing['delay_median_s'] * 1000:.0f} ms, "
            f"max {publishing['delay_max_s'] * 1000:.0f} ms; {publishing['stale_after_1s']} stale responses after 1 s",
        ),
    ]
    if killed:
        k = killed["wrk"]
        rows.append(
            (
                "worker killed: only in-flight requests fail",
                k["server_errors"] == 0
                and k["failed"] <= killed["in_flight_bound"]
                and killed["respawn_s"] is not None,
                f"{k['failed']} failed of {k['requests']} (the killed worker held {killed['in_flight_bound']} "
                "connections, each with at most one request in flight), "
                f"0 5xx expected / {k['server_errors']} seen; new worker after "
                f"{killed['respawn_s'] if killed['respawn_s'] is None else round(killed['respawn_s'], 2)} s",
            )
        )
    if restarted:
        r = restarted["wrk"]
        recovered = restarted["recovered_after_database_back_s"]
        down = restarted["database_down_s"]
        rows.append(
            (
                "PostgreSQL restart: recovers on its own within seconds",
                recovered is not None and recovered < 5 and r["server_errors"] == 0,
                f"database refused connections for {'?' if down is None else f'{down:.1f}'} s; the uncached "
                f"history page failed {restarted['history_failures']}× over {restarted['history_outage_s']:.1f} s "
                f"and was good again {'never' if recovered is None else f'{recovered:.2f} s'} after the database "
                f"was back ({restarted['history_failures_after_database_back']} failures after); cached "
                f"article page: {r['server_errors']} 5xx, {r['failed']} failed of {r['requests']}",
            )
        )
    return rows


def markdown(args, publishing, killed, restarted, rows) -> str:
    w = publishing["wrk"]
    lines = [
        "# Load and faults",
        "",
        f"`bench/load_faults.py` on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. gunicorn with "
        f"mali_history/gunicorn.conf.py ({WORKERS} gthread workers), production settings (DEBUG off, page cache "
        f"in Redis), PostgreSQL; wrk {args.connections} connections on loopback; wrk, gunicorn, PostgreSQL and "
        "Redis share the machine.",
        "",
        "| Criterion | Result | Figures |",
        "|---|---|---|",
    ]
    for name, ok, detail in rows:
        lines.append(f"| {name} | {'pass' if ok else '**FAIL**'} | {detail} |")
    lines += [
        "",
        f"Publishing under load: {args.duration} s of wrk on the article page, {w['rps']:.0f} requests/s, "
        f"p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms, while {publishing['publishes']} revisions were published "
        f"(median publish {publishing['publish_median_s'] * 1000:.0f} ms).",
    ]
    if killed:
        lines.append(
            f"Worker kill: {killed['wrk']['rps']:.0f} requests/s over {args.fault_duration} s; "
            f"{killed['poller_errors']} of {killed['poller_readings']} poller requests failed."
        )
    if restarted:
        lines.append(
            f"PostgreSQL restart: {restarted['wrk']['rps']:.0f} requests/s on the (cached) article page "
            f"over {args.fault_duration} s; the uncached history page was polled every 50 ms "
            f"({restarted['history_readings']} requests)."
        )
    lines += ["", "Run it again: `.venv/bin/python bench/load_faults.py` (about three minutes).", ""]
    return "\n".join(lines)


def _out_of_time(signum, frame):
    raise SystemExit(f"Stopped: the run took longer than {HARD_LIMIT} s.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load while publishing")
    parser.add_argument("--publishes", type=int, default=50)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--fault-duration", type=int, default=20, help="seconds of load around each fault")
    parser.add_argument("--skip-worker-kill", action="store_true")
    parser.add_argument("--skip-postgres-restart", action="store_true")
    parser.add_argument("--output", default=str(PROJECT / "bench" / "LOAD_FAULTS.md"))
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(HARD_LIMIT)

    tmp = Path(tempfile.mkdtemp(prefix="load-faults-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mali_history.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"{PG}/{DATABASE}",
            "REDIS_URL": REDIS_URL,
            "DJANGO_CACHE_PREFIX": CACHE_PREFIX,
            "DJANGO_STATIC_ROOT": str(tmp / "static"),
            "DJANGO_MEDIA_ROOT": str(tmp / "media"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(WORKERS),
            # No planned restarts during the run: a fault here is one this script caused.
            "GUNICORN_MAX_REQUESTS": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    lua = tmp / "check.lua"
    lua.write_text(WRK_LUA)
    gunicorn = None
    try:
        print(f"Setting up database {DATABASE}, static files and the demo …", flush=True)
        psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{DATABASE}"')
        cleanup_redis()
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        run([PYTHON, "manage.py", "load_demo"], env, stdout=subprocess.DEVNULL)
        slug = subprocess.run(
            [PYTHON, "-c", "from articles.ops import demo; print(demo.ARTICLE['slug'])"],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        article_path, history_path = f"/articles/{slug}/", f"/articles/{slug}/history/"

        log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - the server writes to it until stopped
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "mali_history/gunicorn.conf.py"],
            env=env,
            cwd=PROJECT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(port, article_path)
        print(f"gunicorn (pid {gunicorn.pid}, {WORKERS} workers) on 127.0.0.1:{port}", flush=True)

        print(f"1. {args.duration} s of load while publishing {args.publishes} revisions …", flush=True)
        publishing = publishing_under_load(args, port, article_path, env, lua)
        killed = restarted = None
        if not args.skip_worker_kill:
            print(f"2. {args.fault_duration} s of load, one worker killed …", flush=True)
            killed = worker_killed_under_load(args, port, article_path, gunicorn.pid, lua)
        if not args.skip_postgres_restart:
            print(f"3. {args.fault_duration} s of load, PostgreSQL restarted …", flush=True)
            restarted = postgres_restarted_under_load(args, port, article_path, history_path, lua)
    finally:
        signal.alarm(0)
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        for _attempt in range(10):  # PostgreSQL may still be coming back from phase 3
            try:
                psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
                break
            except subprocess.CalledProcessError:
                time.sleep(1)
        cleanup_redis()

    rows = verdicts(publishing, killed, restarted)
    print()
    for name, ok, detail in rows:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print(json.dumps({"publishing": publishing, "worker_killed": killed, "postgres_restarted": restarted}, indent=1))
    report = markdown(args, publishing, killed, restarted, rows)
    Path(args.output).write_text(report)
    print(f"\nWritten to {args.output}")
    sys.exit(0 if all(ok for _, ok, _ in rows) else 1)


if __name__ == "__main__":
    main()
