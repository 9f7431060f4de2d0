#!/usr/bin/env python3
"""A local rehearsal of the site on several machines; writes bench/MULTINODE.md.

    .venv/bin/python bench/multinode.py                                  # about 5 minutes
    .venv/bin/python bench/multinode.py --duration 20 --publishes 10     # a quick run
    .venv/bin/python bench/multinode.py --output -                       # print only

On loopback: PostgreSQL (database mali_history_bench_multinode, recreated), Redis (database 7,
flushed), moto's standalone S3 server standing in for the object store (buckets
mali-history-media and mali-history-baked), two gunicorn app nodes A and B with their own media
and temporary directories (nothing shared but the database, Redis and the buckets), two task
workers, and nginx built from deploy/nginx-object-store.conf.example by text substitution (plain
HTTP on a loopback port instead of TLS; the upstreams pointed at the local nodes and moto).

Under wrk load on the article page through nginx it publishes revisions through node A's admin
(signed in over HTTP with the CSRF token, as a browser), and times how soon each is visible
through both nodes, through nginx and in the baked object; kills node A (SIGKILL, the whole
process group) half-way and restarts it; then kills a worker while it runs a follow-up task and
checks that the work is finished once; and compares two nodes with one through nginx on a page
Django serves. Needs wrk, nginx, PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run_bench import PROJECT, SEED, free_port, machine, recreate_database, run, wait_for  # noqa: E402

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mali_history_bench_multinode"
REDIS_URL = "redis://127.0.0.1:6379/7"
EXAMPLE = PROJECT / "deploy" / "nginx-object-store.conf.example"
MEDIA_BUCKET, BAKED_BUCKET = "mali-history-media", "mali-history-baked"
# The virtualenv this script runs in (the project's .venv, or another one).
VENV_BIN = Path(sys.executable).parent
PYTHON = str(VENV_BIN / "python")
HTTPS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}  # as nginx sends them to a node
# Any session cookie (here one that names no session) makes nginx and the page cache hand the request to Django.
SIGNED_IN = {"Cookie": "sessionid=rehearsal"}
GUNICORN_WORKERS, GUNICORN_THREADS = 2, 4
WORKER_IDS = ("worker-1", "worker-2")
COMPARE_ROUNDS = 3  # two nodes, then one, alternately; medians
TASKS_TABLE = "django_tasks_database_dbtaskresult"
FOLLOW_UPS_TABLE = "articles_followup"

NGINX_MAIN = """\
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format rehearsal '$msec $status $request_time "$upstream_addr" "$upstream_status" "$request"';
    access_log {tmp}/access.log rehearsal;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;

    # deploy/nginx-object-store.conf.example, as the rehearsal runs it:
{example}

    # The same site with node A only, for the throughput comparison:
{one_node}
}}
"""


def replace(text: str, old: str, new: str, count: int | None = None) -> str:
    """``str.replace``, failing loudly if the example no longer has ``old``."""
    found = text.count(old)
    if not found or (count is not None and found != count):
        raise SystemExit(f"{EXAMPLE.name}: expected {count or 'some'} of {old!r}, found {found}")
    return text.replace(old, new)


def nginx_conf(tmp: Path, port: int, one_node_port: int, redirect_port: int, node_a: int, node_b: int, moto: int):
    example = EXAMPLE.read_text()
    # TLS is terminated here in production; the rehearsal speaks plain HTTP on loopback, and tells
    # the nodes the request came over HTTPS, as the production nginx does.
    example = replace(
        example, "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n", f"    listen 127.0.0.1:{port};\n"
    )
    example = re.sub(r"\n    ssl_certificate(_key)? .*;", "", example)
    example = replace(example, "    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{redirect_port};\n")
    example = replace(
        example, "proxy_set_header X-Forwarded-Proto $scheme;", "proxy_set_header X-Forwarded-Proto https;"
    )
    example = replace(example, "10.0.0.11:8000", f"127.0.0.1:{node_a}", 1)
    example = replace(example, "10.0.0.12:8000", f"127.0.0.1:{node_b}", 1)
    example = replace(example, "objects.internal:9000", f"127.0.0.1:{moto}")
    example = replace(example, "proxy_set_header Host objects.internal;", f"proxy_set_header Host 127.0.0.1:{moto};")
    example = replace(example, "alias /srv/mali-history/static/;", f"alias {tmp}/static/;", 1)
    one = example
    one = re.sub(r"\nmap .*?\n}\n", "\n", one, flags=re.S)
    one = re.sub(r"\nupstream object_store \{.*?\n}\n", "\n", one, flags=re.S)
    one = re.sub(rf"\nserver \{{\n    listen 127.0.0.1:{redirect_port};.*?\n}}\n", "\n", one, flags=re.S)
    one = replace(one, f"    server 127.0.0.1:{node_b} max_fails=3 fail_timeout=10s;\n", "", 1)
    one = replace(one, "upstream mali_history {", "upstream mali_history_one {", 1)
    one = replace(one, "proxy_pass http://mali_history;", "proxy_pass http://mali_history_one;", 1)
    one = replace(one, f"listen 127.0.0.1:{port};", f"listen 127.0.0.1:{one_node_port};", 1)

    def indent(text):
        return "\n".join(("    " + line) if line else line for line in text.splitlines())

    return NGINX_MAIN.format(tmp=tmp, example=indent(example), one_node=indent(one))


def nginx_may_read(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "nginx",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}},
            }
        ],
    }


class Processes:
    """Everything the rehearsal starts, by name; each in its own process group, stopped at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list, env: dict) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115 - written to until the process stops
        process = subprocess.Popen(
            [str(c) for c in cmd], env=env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        """SIGKILL to the process and its children (a gunicorn master and its workers): a machine gone."""
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.running.clear()


def gunicorn_cmd(port: int) -> list:
    return [
        VENV_BIN / "gunicorn",
        "-c",
        "mali_history/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--threads",
        str(GUNICORN_THREADS),
    ]


def django_script(code: str, env: dict) -> dict:
    """Run ``code`` inside Django (manage.py shell) and return the JSON it prints last."""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", code],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


PREPARE = """
import json
from django.contrib.auth import get_user_model
from articles.models import Article, ArticleVersion
from articles.revisions import moderation
User = get_user_model()
moderator = User.objects.get(username="moderator")
moderator.set_password(PASSWORD)
moderator.save()
editor = User.objects.get(username="editor")
article = Article.objects.order_by("-pk").first()
section = article.sections.order_by("position", "pk").first()
revisions = []
for number in range(1, COUNT + 1):
    data = section.snapshot()
    data["body"] = data["body"].rstrip() + "\\n\\nRehearsal note %03d-TOKEN." % number
    revision = moderation.propose(obj=section, author=editor, summary="Rehearsal %d" % number, data=data, notify=False)
    revisions.append(revision.pk)
print(json.dumps({
    "slug": article.slug, "title": article.title, "section": section.pk, "revisions": revisions,
    "versions": ArticleVersion.objects.filter(article=article).count(),
}))
"""

CHECK = """
import json
from collections import Counter
from articles.models import ArticleVersion, FollowUp, ModerationEvent, Revision
from django_tasks_db.models import DBTaskResult
ids = IDS
revisions = Revision.objects.filter(pk__in=ids)
follow_ups = FollowUp.objects.filter(revision__in=ids)
per_revision = Counter(follow_ups.values_list("revision_id", flat=True))
events = ModerationEvent.objects.filter(revision__in=ids)
approvals = Counter(events.filter(kind="approved").values_list("revision_id", flat=True))
follow_up_ids = {str(pk) for pk in follow_ups.values_list("pk", flat=True)}
runs, seconds, waits = Counter(), [], []
for result in DBTaskResult.objects.filter(task_path__endswith="run_follow_up", status="SUCCESSFUL"):
    pk = str(result.args_kwargs["args"][0])
    if pk in follow_up_ids:
        runs[pk] += 1
        seconds.append((result.finished_at - result.started_at).total_seconds())
        waits.append((result.started_at - result.enqueued_at).total_seconds())
print(json.dumps({
    "statuses": dict(Counter(revisions.values_list("status", flat=True))),
    "versions": ArticleVersion.objects.filter(article__slug=SLUG).count(),
    "follow_ups": follow_ups.count(),
    "follow_ups_per_revision": sorted(set(per_revision[pk] for pk in ids)),
    "unfinished": follow_ups.filter(finished_at=None).count(),
    "events": dict(Counter(events.values_list("kind", flat=True))),
    "approvals_per_revision": sorted(set(approvals[pk] for pk in ids)),
    "approved_at": {str(e.revision_id): e.at.timestamp() for e in events.filter(kind="approved")},
    "task_statuses": dict(Counter(DBTaskResult.objects.values_list("status", flat=True))),
    "successful_runs": {pk: runs[pk] for pk in follow_up_ids},
    "follow_up_task_seconds": seconds,
    "follow_up_task_wait_seconds": waits,
}))
"""


class Admin:
    """A moderator in node A's admin, as a browser: session and CSRF cookies, the form's token."""

    def __init__(self, base: str, password: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.headers = {**HTTPS, "Origin": "https://127.0.0.1"}
        page = self.get("/admin/login/")
        self.post("/admin/login/", {"username": "moderator", "password": password, "next": "/admin/"}, page)
        if "sessionid" not in self.cookies:
            raise SystemExit("Could not sign in to node A's admin.")

    def _keep(self, response):
        # The cookies are Secure (production settings); the rehearsal speaks HTTP to the node
        # as nginx does, so they are kept by hand.
        self.cookies.update(response.cookies.get_dict())
        return response

    def get(self, path: str) -> requests.Response:
        response = requests.get(
            self.base + path, headers=self.headers, cookies=self.cookies, allow_redirects=False, timeout=30
        )
        response.raise_for_status()
        return self._keep(response)

    def post(self, path: str, data: dict, page: requests.Response) -> requests.Response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = requests.post(
            self.base + path,
            data={"csrfmiddlewaretoken": token, **data},
            headers={**self.headers, "Referer": f"https://127.0.0.1{path}"},
            cookies=self.cookies,
            allow_redirects=False,
            timeout=60,
        )
        return self._keep(response)

    def review(self, revision: int) -> requests.Response:
        return self.get(f"/admin/articles/revision/{revision}/change/")

    def approve(self, revision: int, review: requests.Response | None = None) -> None:
        """The approve form's POST; ``review`` is the review page the moderator read first."""
        review = review or self.review(revision)
        # Every proposal was made against the same live text, so after the first they are stale:
        # the moderator ticks "publish this proposal as it is, over them" (the form's own field).
        response = self.post(
            f"/admin/articles/revision/{revision}/approve/", {"override_stale": "on", "publish_at": ""}, review
        )
        if response.status_code != 302 or response.headers["Location"].rstrip("/").endswith("change"):
            raise SystemExit(f"Approving revision {revision} failed: {response.status_code} {response.headers}")


def shows(url: str, text: str, headers: dict | None = None) -> bool:
    try:
        response = requests.get(url, headers=headers or {}, timeout=5)
    except requests.RequestException:
        return False
    return response.status_code == 200 and text in response.text


def poll(check, timeout: float, interval: float = 0.02) -> float | None:
    """Seconds until ``check()`` is true, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def first_seen(url: str, text: str, headers: dict | None, until: float) -> float | None:
    """The wall-clock time ``url`` first shows ``text`` (polled every 50 ms), or None by ``until``."""
    while time.time() < until:
        if shows(url, text, headers):
            return time.time()
        time.sleep(0.05)
    return None


class BakedWatcher(threading.Thread):
    """Reads the baked article in the bucket every 50 ms; notes when each rehearsal note first shows."""

    def __init__(self, s3, key: str, token: str):
        super().__init__(daemon=True)
        self.s3, self.key, self.pattern = s3, key, re.compile(rf"Rehearsal note (\d{{3}})-{token}")
        self.first_seen: dict[int, float] = {}
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                body = self.s3.get_object(Bucket=BAKED_BUCKET, Key=self.key)["Body"].read().decode()
            except Exception:  # noqa: BLE001 - removed while being baked again, or moto busy
                body = ""
            for match in self.pattern.finditer(body):
                self.first_seen.setdefault(int(match.group(1)), time.time())
            time.sleep(0.05)

    def latency(self, number: int, sent_at: float) -> float | None:
        seen = [t for n, t in self.first_seen.items() if n >= number]
        return min(seen) - sent_at if seen else None


def wrk(url: str, seconds: int, connections: int, headers=()) -> dict:
    header_args = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", *header_args, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def read_access_log(path: Path) -> list[tuple[float, int, float, str, str]]:
    """(end time, status, seconds, upstream addresses, request line) of each request nginx logged."""
    entries = []
    pattern = re.compile(r'^([\d.]+) (\d{3}) ([\d.]+) "([^"]*)" "([^"]*)" "(.*)"$')
    for line in path.read_text().splitlines():
        match = pattern.match(line)
        if match:
            entries.append((float(match[1]), int(match[2]), float(match[3]), match[4], match[6]))
    return entries


def summary(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"


def main():  # noqa: C901, PLR0915 - one scenario, step by step
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="Seconds of wrk load while publishing (default 60).")
    parser.add_argument("--publishes", type=int, default=50, help="Revisions published under load (default 50).")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16).")
    parser.add_argument("--compare", type=int, default=10, help="Seconds per throughput measurement (default 10).")
    parser.add_argument("--seed", type=Path, default=SEED, help=f"The seed article to import (default {SEED}).")
    parser.add_argument(
        "--output", default=str(PROJECT / "bench" / "MULTINODE.md"), help="Report file; - to print only."
    )
    args = parser.parse_args()
    for tool in ("wrk", "nginx", "psql", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed.")

    tmp = Path(tempfile.mkdtemp(prefix="mali-multinode-"))
    tmp.chmod(0o755)  # nginx's workers run as another user
    processes = Processes(tmp)
    ports = {name: free_port() for name in ("moto", "a", "b", "nginx", "one_node", "redirect")}
    token = secrets.token_hex(4).upper()
    password = secrets.token_urlsafe(16)
    endpoint = f"http://127.0.0.1:{ports['moto']}"
    s3_options = {"endpoint_url": endpoint, "region_name": "us-east-1", "querystring_auth": False}
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DJANGO_CACHE_PREFIX": "mali-history-multinode",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SITE_URL": "https://127.0.0.1",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_MEDIA_STORAGE": "storages.backends.s3.S3Storage",
        "DJANGO_MEDIA_STORAGE_OPTIONS": json.dumps(
            s3_options
            | {"bucket_name": MEDIA_BUCKET, "custom_domain": "127.0.0.1/media", "url_protocol": "https:"}
            | {"file_overwrite": False}
        ),
        "DJANGO_BAKED_STORAGE": "storages.backends.s3.S3Storage",
        "DJANGO_BAKED_STORAGE_OPTIONS": json.dumps(s3_options | {"bucket_name": BAKED_BUCKET, "file_overwrite": True}),
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "PYTHONPATH": str(PROJECT),
    }
    for key in ("DJANGO_STATIC_PUBLISH_ROOT", "DJANGO_PAGE_CACHE", "DJANGO_SETTINGS_MODULE", "DJANGO_MEDIA_ROOT"):
        env.pop(key, None)

    def node_env(label: str) -> dict:
        own = tmp / f"node-{label}"
        (own / "media").mkdir(parents=True, exist_ok=True)
        (own / "tmp").mkdir(exist_ok=True)
        return {**env, "DJANGO_MEDIA_ROOT": str(own / "media"), "TMPDIR": str(own / "tmp")}

    figures: dict = {"ports": ports}
    load_before = os.getloadavg()
    try:
        print("== Setting up", flush=True)
        recreate_database(DATABASE_URL, env)
        run(["redis-cli", "-n", "7", "FLUSHDB"], env, stdout=subprocess.DEVNULL)
        processes.start("moto", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", ports["moto"]], env)
        wait_for(f"{endpoint}/moto-api/")
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        for bucket in (MEDIA_BUCKET, BAKED_BUCKET):
            s3.create_bucket(Bucket=bucket)
            # As the example asks: anonymous GET from nginx's address only; nothing else public.
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(nginx_may_read(bucket)))
        setup_env = node_env("setup")
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], setup_env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], setup_env)
        run([PYTHON, "manage.py", "load_demo"], setup_env, stdout=subprocess.DEVNULL)
        run(
            [PYTHON, "manage.py", "import_article", args.seed, "--publish", "--user", "moderator"],
            setup_env,
            stdout=subprocess.DEVNULL,
        )
        # The background work of loading them (re-baking, search entries), done before the load starts.
        run(
            [PYTHON, "manage.py", "db_worker", "--batch", "--no-startup-delay", "-v", "0"],
            setup_env,
            stdout=subprocess.DEVNULL,
        )
        run([PYTHON, "manage.py", "bake_site"], setup_env, stdout=subprocess.DEVNULL)
        extra = 6  # proposals for the worker kill (tried until one is caught running)
        prepared = django_script(
            PREPARE.replace("PASSWORD", repr(password))
            .replace("COUNT", str(args.publishes + extra))
            .replace("TOKEN", token),
            setup_env,
        )
        slug, revisions = prepared["slug"], prepared["revisions"]
        article = f"/articles/{slug}/"
        baked_key = f"articles/{slug}/index.html"
        figures["media_objects"] = s3.list_objects_v2(Bucket=MEDIA_BUCKET).get("KeyCount", 0)
        figures["baked_objects"] = s3.list_objects_v2(Bucket=BAKED_BUCKET, MaxKeys=1000).get("KeyCount", 0)
        for path in tmp.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)

        print("== Starting two nodes, two workers and nginx", flush=True)
        node_envs = {"a": node_env("a"), "b": node_env("b")}
        for label in ("a", "b"):
            processes.start(f"node-{label}", gunicorn_cmd(ports[label]), node_envs[label])
        for number, worker_id in enumerate(WORKER_IDS):
            processes.start(
                worker_id,
                [PYTHON, "manage.py", "db_worker", "--interval", "0.5", "--worker-id", worker_id],
                node_envs["ab"[number]],
            )
        conf = tmp / "nginx.conf"
        conf.write_text(
            nginx_conf(tmp, ports["nginx"], ports["one_node"], ports["redirect"], ports["a"], ports["b"], ports["moto"])
        )
        checked = subprocess.run(["nginx", "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True)
        if checked.returncode:
            raise SystemExit(checked.stderr)
        processes.start("nginx", ["nginx", "-p", tmp, "-c", conf, "-g", "daemon off;"], env)
        node = {label: f"http://127.0.0.1:{ports[label]}" for label in ("a", "b")}
        site = f"http://127.0.0.1:{ports['nginx']}"
        one_node_site = f"http://127.0.0.1:{ports['one_node']}"
        for base in node.values():
            wait_for(base + article, HTTPS)
        wait_for(site + article)
        baked_served = requests.get(site + article, timeout=10)
        anonymous = requests.get(f"{endpoint}/{BAKED_BUCKET}/{baked_key}", timeout=10)
        figures["anonymous_get"] = anonymous.status_code
        figures["baked_equal"] = (
            baked_served.content == s3.get_object(Bucket=BAKED_BUCKET, Key=baked_key)["Body"].read()
        )
        figures["static_status"] = requests.get(site + "/static/css/site.css", timeout=10).status_code
        media = s3.list_objects_v2(Bucket=MEDIA_BUCKET).get("Contents", [])
        figures["media_status"] = (
            requests.get(f"{site}/media/{media[0]['Key']}", timeout=10).status_code if media else None
        )
        admin = Admin(node["a"], password)

        print(f"== {args.duration} s of wrk on {site}{article}; {args.publishes} publishes through node A", flush=True)
        watcher = BakedWatcher(s3, baked_key, token)
        watcher.start()
        # wrk runs for --duration seconds, and on in further 10 s runs until the last publish is seen.
        load: dict = {"requests": 0, "non2xx": 0, "socket_errors": [], "runs": 0}
        publishing = threading.Event()
        publishing.set()

        def keep_loading():
            started = time.time()
            while publishing.is_set() or time.time() - started < args.duration:
                left = args.duration - (time.time() - started)
                result = wrk(site + article, max(10, int(left)), args.connections)
                load["requests"] += result["requests"]
                load["non2xx"] += result["non2xx"]
                load["runs"] += 1
                if result["socket_errors"]:
                    load["socket_errors"].append(result["socket_errors"])
            load["seconds"] = time.time() - started

        load_thread = threading.Thread(target=keep_loading, daemon=True)
        load_started = time.time()
        load_thread.start()
        time.sleep(1)
        publishes = []
        kill_at = args.publishes // 2
        pollers = ThreadPoolExecutor(max_workers=4)
        for number in range(1, args.publishes + 1):
            if number == kill_at + 1:
                # Node A's machine dies half-way: load keeps going for ~5 s, then it comes back.
                kill_time = time.time()
                processes.kill("node-a")
                print(f"   node A killed at {kill_time - load_started:.1f} s", flush=True)
                time.sleep(5)
                processes.start("node-a", gunicorn_cmd(ports["a"]), node_envs["a"])
                wait_for(node["a"] + article, HTTPS)
                back_time = time.time()
                figures["kill"] = {"at": kill_time, "back": back_time, "down_s": back_time - kill_time}
                print(f"   node A answering again after {back_time - kill_time:.1f} s", flush=True)
            marker = f"Rehearsal note {number:03d}-{token}"
            revision = revisions[number - 1]
            review = admin.review(revision)
            sent = time.time()
            until = sent + 30
            watching = {
                "node A": pollers.submit(first_seen, node["a"] + article, marker, HTTPS, until),
                "node B": pollers.submit(first_seen, node["b"] + article, marker, HTTPS, until),
                # A signed-in reader's request: nginx hands it to Django, which renders it for them.
                "nginx, Django": pollers.submit(first_seen, site + article, marker, SIGNED_IN, until),
                # An anonymous reader's: the baked object, or Django while there is none.
                "nginx, anonymous": pollers.submit(first_seen, site + article, marker, None, until),
            }
            admin.approve(revision, review)
            answered = time.time()
            seen = {where: future.result() for where, future in watching.items()}
            publishes.append(
                {"number": number, "revision": revision, "sent": sent, "answered": answered}
                | {"under_load": load_thread.is_alive(), "seen": seen}
            )
            print(
                f"   publish {number:2}: approval POST {answered - sent:.2f} s; seen after sending it: "
                + ", ".join(f"{where} {'never' if t is None else f'{t - sent:.2f} s'}" for where, t in seen.items()),
                flush=True,
            )
        pollers.shutdown()
        publishing.clear()
        load_thread.join()
        figures["load"] = load
        # The baked object: up to 20 s more for the last publishes.
        poll(lambda: watcher.latency(args.publishes, 0) is not None, 20, 0.2)
        watcher.stopping.set()
        for publish in publishes:
            publish["baked_seen"] = watcher.latency(publish["number"], 0)
        figures["publishes"] = publishes

        print("== 5xx through nginx during the load", flush=True)
        log = read_access_log(tmp / "access.log")
        kill = figures.get("kill")
        node_a_addr = f"127.0.0.1:{ports['a']}"
        errors = [entry for entry in log if entry[1] >= 500]
        in_flight = [
            entry
            for entry in errors
            if kill and node_a_addr in entry[3] and entry[0] - entry[2] <= kill["at"] + 0.001 and entry[0] >= kill["at"]
        ]
        in_window = [entry for entry in errors if kill and kill["at"] <= entry[0] <= kill["back"]]
        figures["nginx_requests"] = len(log)
        moto_addr = f"127.0.0.1:{ports['moto']}"
        article_requests = [entry for entry in log if entry[4].startswith(f"GET {article} ")]
        figures["article_requests"] = len(article_requests)
        figures["article_from_bucket"] = sum(1 for entry in article_requests if entry[3] == moto_addr)
        figures["errors"] = len(errors)
        figures["errors_in_flight"] = len(in_flight)
        figures["errors_in_window"] = len(in_window)
        figures["errors_sample"] = [f"{e[0]:.3f} {e[1]} {e[2]} {e[3]}" for e in errors[:10]]
        figures["retried_after_kill"] = sum(
            1 for entry in log if kill and node_a_addr in entry[3] and "," in entry[3] and entry[1] < 500
        )
        print(
            f"   {len(errors)} of {len(log)} requests answered 5xx; {len(in_flight)} were in flight on node A",
            flush=True,
        )

        print("== Killing a worker while it runs a follow-up", flush=True)
        worker_kill: dict = {"attempts": 0}
        db = psycopg.connect("postgresql://postgres@127.0.0.1:5432/mali_history_bench_multinode", autocommit=True)
        extra_revisions = revisions[args.publishes :]
        last_number = args.publishes
        for revision in extra_revisions:
            last_number += 1
            worker_kill["attempts"] += 1
            admin.approve(revision)
            caught = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and caught is None:
                # This publish's follow-up task, taken by a worker and still running.
                caught = db.execute(
                    f"SELECT t.id, t.task_path, t.worker_ids, f.id FROM {TASKS_TABLE} t "  # noqa: S608 - constants
                    f"JOIN {FOLLOW_UPS_TABLE} f ON t.args_kwargs->'args'->>0 = f.id::text "
                    "WHERE f.revision_id = %s AND t.status = 'RUNNING' AND t.task_path LIKE %s",
                    [revision, "%.run_follow_up"],
                ).fetchone()
                if caught is None:
                    time.sleep(0.005)
            if caught:
                worker_id = caught[2][-1]
                processes.kill(worker_id)
                worker_kill |= {"task": str(caught[0]), "task_path": caught[1], "worker": worker_id}
                worker_kill |= {"follow_up": str(caught[3]), "revision": revision}
                print(f"   killed {worker_id} running {caught[1]} ({caught[0]})", flush=True)
                break
        worker_kill["last_number"] = last_number
        if "worker" in worker_kill:
            time.sleep(3)
            status = db.execute(f"SELECT status FROM {TASKS_TABLE} WHERE id = %s", [worker_kill["task"]]).fetchone()  # noqa: S608
            worker_kill["status_after_kill"] = status[0]
            finished = db.execute(
                f"SELECT finished_at IS NOT NULL FROM {FOLLOW_UPS_TABLE} WHERE id = %s",  # noqa: S608
                [worker_kill["follow_up"]],
            ).fetchone()
            worker_kill["finished_before_run_follow_ups"] = finished[0]
            # README, "Background work": a killed worker's task stays Running; run_follow_ups
            # (from cron, or by hand after restarting workers) finishes what it left.
            done = subprocess.run(
                [PYTHON, "manage.py", "run_follow_ups"], env=node_envs["a"], cwd=PROJECT, capture_output=True, text=True
            )
            worker_kill["run_follow_ups"] = done.stdout.strip()
            processes.start(
                worker_kill["worker"],
                [PYTHON, "manage.py", "db_worker", "--interval", "0.5", "--worker-id", worker_kill["worker"]],
                node_envs["a"],
            )
        db.close()
        marker = f"Rehearsal note {last_number:03d}-{token}"
        worker_kill["baked_latest"] = poll(
            lambda: marker in s3.get_object(Bucket=BAKED_BUCKET, Key=baked_key)["Body"].read().decode(), 20, 0.2
        )
        fr_key = f"fr/articles/{slug}/index.html"
        worker_kill["baked_fr_latest"] = (
            marker in s3.get_object(Bucket=BAKED_BUCKET, Key=fr_key)["Body"].read().decode()
        )
        time.sleep(2)  # let the workers finish the last tasks before counting
        used = revisions[:last_number]
        checks = django_script(CHECK.replace("IDS", repr(used)).replace("SLUG", repr(slug)), node_envs["b"])
        checks["versions_before"] = prepared["versions"]
        checks["publishes"] = len(used)
        figures["worker_kill"] = worker_kill
        figures["checks"] = checks
        # Times from each publish's approval as recorded in the publish transaction (its audit event).
        for publish in publishes:
            approved_at = checks["approved_at"][str(publish["revision"])]
            publish["approve_s"] = publish["answered"] - publish["sent"]
            for where, seen in publish["seen"].items():
                publish[where] = None if seen is None else max(0.0, seen - approved_at)
            publish["baked"] = None if publish["baked_seen"] is None else max(0.0, publish["baked_seen"] - approved_at)
        print(f"   {json.dumps(worker_kill)}\n   {json.dumps(checks)}", flush=True)

        print("== Throughput: two nodes and one node through nginx, a page Django serves", flush=True)
        page = "/feeds/articles.atom"
        for base in (site, one_node_site):
            wait_for(base + page)
        rounds = {"two": [], "one": []}
        for _round in range(COMPARE_ROUNDS):
            for key, base in (("two", site), ("one", one_node_site)):
                result = wrk(base + page, args.compare, 32)
                rounds[key].append(result)
                print(f"   {key} node(s): {result['rps']:.0f} req/s {result['non2xx'] or ''}", flush=True)
        figures["throughput"] = {
            key: statistics.median(r["rps"] for r in results) for key, results in rounds.items()
        } | {"errors": sum(r["non2xx"] for results in rounds.values() for r in results)}
        figures["page"] = page
        figures["machine"] = machine() | {"load": os.getloadavg(), "load_before": load_before}
        figures["local_media_files"] = sum(1 for path in tmp.glob("node-*/media/**/*") if path.is_file())
        text = report(args, figures, prepared)
        print()
        print(text)
        if args.output != "-":
            Path(args.output).write_text(text)
    finally:
        processes.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(args, figures: dict, prepared: dict) -> str:  # noqa: PLR0915
    publishes = figures["publishes"]
    wheres = ("node A", "node B", "nginx, Django")
    django_served = {where: [p[where] for p in publishes if p[where] is not None] for where in wheres}
    never = {where: sum(1 for p in publishes if p[where] is None) for where in wheres}
    anonymous = [p["nginx, anonymous"] for p in publishes if p["nginx, anonymous"] is not None]
    anonymous_over_1s = sum(1 for p in publishes if p["nginx, anonymous"] is None or p["nginx, anonymous"] > 1)
    anonymous_over_10s = sum(1 for p in publishes if p["nginx, anonymous"] is None or p["nginx, anonymous"] > 10)
    worst_django = max((max(v) for v in django_served.values() if v), default=float("inf"))
    over_1s = sum(1 for p in publishes if any(p[w] is None or p[w] > 1 for w in wheres))
    baked = [p["baked"] for p in publishes if p["baked"] is not None]
    baked_over = sum(1 for p in publishes if p["baked"] is None or p["baked"] > 10)
    under_load = sum(1 for p in publishes if p["under_load"])
    load, kill, checks, worker_kill = figures["load"], figures.get("kill"), figures["checks"], figures["worker_kill"]
    throughput = figures["throughput"]
    ratio = throughput["two"] / throughput["one"]
    unexplained = figures["errors"] - figures["errors_in_flight"]
    info = figures["machine"]
    killed_follow_up = worker_kill.get("follow_up")
    runs = checks["successful_runs"]
    other_runs = sorted({n for pk, n in runs.items() if pk != killed_follow_up})
    one_version_each = checks["versions"] - checks["versions_before"] == checks["publishes"]
    baked_latest = worker_kill.get("baked_latest") is not None and worker_kill.get("baked_fr_latest")
    tasks_ok = (
        "worker" in worker_kill
        and checks["unfinished"] == 0
        and checks["follow_ups_per_revision"] == [1]
        and checks["approvals_per_revision"] == [1]
        and one_version_each
        and other_runs == [1]
        and runs.get(killed_follow_up, 0) <= 1
        and bool(baked_latest)
    )
    rps = load["requests"] / load["seconds"] if load.get("seconds") else 0
    lines = [
        "# Several machines: a local rehearsal",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`.venv/bin/python bench/multinode.py --duration {args.duration} --publishes {args.publishes}` "
        f"(wrk: 2 threads, {args.connections} connections on the article page through nginx; "
        f"{args.compare} s × {COMPARE_ROUNDS} rounds per case for the throughput comparison).",
        "",
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}, {info['ram_gib']} GiB RAM; Linux {info['kernel']}, "
        f"Python {info['python']}, {info['nginx']}, {info['wrk']}. Everything below — both app nodes, both "
        "workers, nginx, PostgreSQL, Redis, the S3 stand-in and wrk — shares these 2 CPUs, and other "
        f"people's test runs shared them too (load average, 1 min, at the start {info['load_before'][0]:.1f}, "
        f"at the end {info['load'][0]:.1f}).",
        "",
        "What runs, all on loopback: PostgreSQL (database `mali_history_bench_multinode`, recreated), Redis "
        "(database 7, flushed), **moto's standalone S3 server standing in for the object store** (no real "
        "object store can be installed here; moto keeps objects in memory in one Python process; the "
        "buckets carry the policy the example asks for, anonymous GET of their objects from nginx's address "
        f"only (an anonymous GET of the baked article answered {figures['anonymous_get']})), two gunicorn app "
        "nodes A and B "
        f"({GUNICORN_WORKERS} gthread workers × {GUNICORN_THREADS} threads each, production settings, "
        "each with its own media and temporary directory: media and baked pages go to the buckets "
        f"`mali-history-media` and `mali-history-baked` only, and the nodes' media directories held "
        f"{figures['local_media_files']} files at the end), two `db_worker` processes (`--interval 0.5`), and "
        "nginx built from `deploy/nginx-object-store.conf.example` by text substitution: plain HTTP on a "
        "loopback port instead of TLS (nginx still tells the nodes `X-Forwarded-Proto: https`, as it does "
        "behind TLS), the upstreams pointed at the two nodes and at moto, the static directory at "
        "collectstatic's; everything else as in the example. The demo and the seed article were loaded with "
        "both storages on the buckets from the start, their background work run (`db_worker --batch`), then "
        f"`manage.py bake_site` ({figures['baked_objects']} baked objects, {figures['media_objects']} media "
        f"objects). Article: “{prepared['title']}”; nginx served its baked object byte for byte before the "
        f"load: {'yes' if figures['baked_equal'] else 'no'}; through nginx, a static file answered "
        f"{figures['static_status']} and a media object from the bucket {figures['media_status']}.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| every publish visible through node A, node B and nginx within 1 s (Django-served) | "
        f"node A {summary(django_served['node A'])}; node B {summary(django_served['node B'])}; "
        f"nginx for a signed-in reader {summary(django_served['nginx, Django'])}; publishes not seen everywhere "
        f"within 1 s: {over_1s} of {len(publishes)} | {verdict(worst_django <= 1 and not any(never.values()))} |",
        f"| every publish in the baked files within 10 s | in the bucket {summary(baked)}, over 10 s or never: "
        f"{baked_over}; nginx for an anonymous reader (the baked object, or Django once the publish has removed "
        f"it) {summary(anonymous)}, over 10 s or never: {anonymous_over_10s} (over 1 s: {anonymous_over_1s}) | "
        f"{verdict(bool(baked) and not baked_over and not anonymous_over_10s)} |",
        f"| 0 5xx through nginx apart from requests in flight on the killed node | {figures['errors']} 5xx of "
        f"{figures['nginx_requests']:,} requests; {figures['errors_in_flight']} in flight on node A when it was "
        f"killed | {verdict(unexplained == 0)} |",
        f"| no task lost or run twice (idempotent effects checked) | a worker killed mid-task; every follow-up "
        f"finished, none run twice, one version and one approval per publish, baked pages current (below) | "
        f"{verdict(tasks_ok)} |",
        f"| throughput, two nodes vs one, through nginx (`{figures['page']}`, Django's page cache answering) | "
        f"{throughput['two']:,.0f} vs {throughput['one']:,.0f} req/s: **{ratio:.2f}×** (both nodes on the "
        "same 2 CPUs) | reported |",
        "",
        "Visibility is timed from the approval's audit event, written in the publish transaction (its "
        "database timestamp), to the first poll that showed the new text.",
        "",
        "## Publishing under load",
        "",
        f"{len(publishes)} revisions of one section of the article approved one after another through node A's "
        "admin over HTTP, as a browser does it: the moderator signed in with the login form and its CSRF "
        "token; for each proposal the review page's GET, then its approve form's POST (with “publish over the "
        "newer changes” ticked, since all proposals were made against the same text beforehand). "
        f"{under_load} of them while wrk was running. The approval POST took "
        f"{summary([p['approve_s'] for p in publishes])}. From sending it, node A and node B (directly), and "
        "nginx twice — as a signed-in reader (a session cookie: nginx and the page cache hand the request to "
        "Django) and as an anonymous one (the baked object) — were each polled every 50 ms until the page "
        "showed the new text; a thread read the baked object in the bucket every 50 ms.",
        "",
        f"wrk on the article page through nginx: {load['seconds']:.0f} s in {load['runs']} run(s) (the "
        f"--duration, then on until the last publish was seen), {load['requests']:,} requests, {rps:,.0f} req/s, "
        f"{load['non2xx']} non-2xx, socket errors: {'; '.join(load['socket_errors']) or 'none'}. nginx answered "
        f"{figures['article_from_bucket']:,} of the {figures['article_requests']:,} article requests in its log "
        f"({figures['article_from_bucket'] / max(figures['article_requests'], 1):.0%}) from the baked object in "
        "the bucket, the rest through Django: after a publish has removed the object and until a worker has "
        "baked it again, nginx falls back to the app nodes. moto, one Python process, limits this figure.",
        "",
        f"The follow-up tasks of these publishes (re-baking the article in English and French and the pages "
        f"listing it): {summary(checks['follow_up_task_seconds'])} each; waited in the queue "
        f"{summary(checks['follow_up_task_wait_seconds'])}.",
        "",
        "## Node A killed",
        "",
    ]
    if kill:
        lines += [
            f"After publish {len(publishes) // 2}, node A's gunicorn (master and workers, one process group) got "
            f"SIGKILL; it was started again 5 s later and answered after {kill['down_s']:.1f} s in all. "
            f"{figures['retried_after_kill']} requests that nginx had sent to node A were answered by node B "
            f"(`proxy_next_upstream`); {figures['errors_in_window']} 5xx while node A was down. Publishing "
            "resumed through node A once it was back.",
        ]
    if figures["errors_sample"]:
        lines += ["", "5xx answers (end time, status, seconds, upstream):", "", "```", *figures["errors_sample"], "```"]
    lines += ["", "## Worker killed with a task in flight", ""]
    if "worker" in worker_kill:
        lines += [
            f"One more proposal was approved and its follow-up task (`{worker_kill['task_path']}`) was caught "
            f"running (try {worker_kill['attempts']}); its worker, `{worker_kill['worker']}`, got SIGKILL. "
            f"Three seconds later the task's row was still {worker_kill['status_after_kill']} and the follow-up "
            f"{'finished' if worker_kill['finished_before_run_follow_ups'] else 'unfinished'}: django-tasks-db "
            "does not hand a dead worker's task to another. As the README says for a dead worker, "
            f"`manage.py run_follow_ups` then ran (“{worker_kill['run_follow_ups']}”), carrying on after the "
            "follow-up's last recorded batch, and the worker was restarted.",
        ]
    else:
        lines += [f"No follow-up task was caught running in {worker_kill['attempts']} tries; no worker was killed."]
    lines += [
        "",
        f"- publishes in the run: {checks['publishes']}; revision statuses: {checks['statuses']}",
        f"- article versions: {checks['versions_before']} before, {checks['versions']} after (one per publish: "
        f"{'yes' if one_version_each else 'no'})",
        f"- approvals recorded per revision: {checks['approvals_per_revision']}; audit events: {checks['events']} "
        "(publishing over newer changes records that too)",
        f"- follow-ups: {checks['follow_ups']}, {checks['follow_ups_per_revision']} per revision, unfinished: "
        f"{checks['unfinished']}; successful follow-up tasks per follow-up: {other_runs}, and "
        f"{runs.get(killed_follow_up, 0)} for the killed one (finished by `run_follow_ups`)",
        f"- task rows by status: {checks['task_statuses']} (the killed worker's row stays RUNNING)",
        f"- the baked article has the last publish's text: English "
        f"{'yes' if worker_kill.get('baked_latest') is not None else 'no'}, French "
        f"{'yes' if worker_kill.get('baked_fr_latest') else 'no'}",
        "",
        "## Throughput, two nodes vs one",
        "",
        f"wrk (2 threads, 32 connections) on `{figures['page']}` through nginx: the example's server with both "
        "nodes, and a second server in the same nginx with node A only (otherwise the same configuration), "
        f"alternately, {args.compare} s each, {COMPARE_ROUNDS} rounds, medians: {throughput['two']:,.0f} vs "
        f"{throughput['one']:,.0f} req/s, a ratio of {ratio:.2f} ({throughput['errors']} non-2xx). nginx hands "
        "this address to Django (it is not a page address, so there is no baked object), and Django's page "
        "cache in Redis answers it. **Both nodes share the same 2 CPUs** with each other, nginx, Redis and wrk, "
        "so a second node adds processes, not CPU; the ratio says nothing about separate machines.",
        "",
        "## Notes",
        "",
    ]
    if load["seconds"] > args.duration + 5:
        lines.append(
            f"- wrk ran {load['seconds']:.0f} s rather than {args.duration} s: the {len(publishes)} publishes, one "
            "after another (review page, approval, waiting until each was seen everywhere), took longer than that "
            "on this machine, and the load went on until the last one was seen, so that every publish was under load."
        )
    lines += [
        "- The targets are read as the issue puts them: 1 s for pages Django serves (each node directly, and "
        "nginx for a signed-in reader), 10 s for baked files (the object in the bucket, and what nginx gives an "
        "anonymous reader: the baked object, or Django once the publish has removed it). The anonymous reader "
        "through nginx sees a publish as soon as the object store has carried out the publish's delete of the "
        "old object; with moto under the load that took the times shown, "
        f"{anonymous_over_1s} of {len(publishes)} over 1 s.",
        "- Times are from the approval's audit event, the last write of the publish transaction before its "
        "commit, so they include the commit and the page-cache bump and object deletes that follow it.",
        "- The killed worker's task row stays RUNNING and no other worker takes it (django-tasks-db has no lease "
        "or time-out); its follow-up is finished by `manage.py run_follow_ups`, from cron every few minutes with "
        "`--older-than 300` in production (README, “Background work”). Until then that publish's baked files may "
        "be missing, never stale: the publish removed the article's baked files first, so nginx hands the page "
        "to Django, which serves the new text. Work the killed task had done is done again by `run_follow_ups`; "
        "it is idempotent (each baked object is replaced whole).",
        "- The baked-page throughput under load (the article through nginx) is moto's: one Python process, "
        "sharing the CPUs. A real object store, or a synced directory served by nginx, serves far more. moto "
        "applies the bucket policy's grant (anonymous GET of objects) but not its condition on the caller's "
        "address, so that restriction is not rehearsed here.",
    ]
    if load["socket_errors"]:
        lines.append(
            f"- wrk reported socket errors ({'; '.join(load['socket_errors'])}): connections that ended without "
            f"a response; nginx's log has {figures['errors']} 5xx answers."
        )
    if ratio < 1.2:
        lines.append(
            f"- Two nodes vs one: {ratio:.2f}× here. Not a target, and not a measure of scaling out: on one 2-CPU "
            "machine, more gunicorn processes only share the same CPUs (and wrk, nginx and Redis need them too)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
