"""Several app nodes behind a load balancer: the production server's side of it.

gunicorn with production settings: the balancer's probe by address, metrics added up across
worker processes, sessions and CSRF tokens good on every node, the proxies trusted by gunicorn
and Django alike, and the deploy/ files that set a node up.
"""

import http.client
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.ops.test_production import PROJECT, Gunicorn, free_port, gunicorn_config, production_env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """An empty, migrated SQLite database, made once: each test copies it (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
    env = production_env(DATABASE_URL=f"sqlite:///{path}", REDIS_URL="")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=PROJECT, check=True)
    return path


def database_copy(migrated, tmp_path):
    shutil.copy(migrated, tmp_path / "db.sqlite3")
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


def get(port, path, host="history.example.org", headers=()):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host, **dict(headers)})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def wait_for(port, deadline=30.0):
    import time

    end = time.monotonic() + deadline
    while True:
        try:
            return get(port, "/healthz", host=f"10.0.0.11:{port}")
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def test_two_gunicorn_workers_answer_the_balancer_and_add_up_their_metrics(migrated, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (tmp_path / "media").mkdir()
    env = production_env(
        DATABASE_URL=database_copy(migrated, tmp_path),
        REDIS_URL="",
        DJANGO_ALLOWED_HOSTS="history.example.org",
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "mali_history/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The balancer probes the node by its address, over plain HTTP: no 400 for the host, no
        # redirect to HTTPS.
        probe, body = wait_for(port)
        assert probe.status == 200, body
        assert b'"status": "ok"' in body
        assert "no-store" in probe.headers["Cache-Control"]
        assert get(port, "/robots.txt", host=f"10.0.0.11:{port}")[0].status == 400  # the site itself refuses it

        # Readers' requests, each on a connection of its own, spread over both processes.
        forwarded = {"X-Forwarded-Proto": "https"}
        for _ in range(20):
            assert get(port, "/robots.txt", headers=forwarded)[0].status == 200
        for _ in range(10):  # a host the site does not serve
            assert get(port, "/robots.txt", host="elsewhere.example", headers=forwarded)[0].status == 400

        scrape, text = get(port, "/metrics", host=f"10.0.0.11:{port}")  # Prometheus, from 127.0.0.1
        assert scrape.status == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples
        }
        # 20 pages and the refused host's 400 (1): every process's count, whichever answered.
        assert samples[("mali_history_http_responses_total", (("status", "2xx"),))] == 20
        assert samples[("mali_history_http_responses_total", (("status", "4xx"),))] == 11
        assert samples[("mali_history_task_queue_depth", ())] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_trusts_the_proxies_django_trusts():
    assert gunicorn_config()["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    behind_a_balancer = gunicorn_config(DJANGO_TRUSTED_PROXIES="10.0.0.2")
    assert behind_a_balancer["forwarded_allow_ips"] == "['10.0.0.2']"
    assert gunicorn_config(FORWARDED_ALLOW_IPS="10.0.0.3")["forwarded_allow_ips"] == "['10.0.0.3']"


DEPLOY = PROJECT / "deploy"


def test_the_environment_example_names_every_variable_the_services_read():
    read = set()
    for source in ("mali_history/settings.py", "mali_history/gunicorn.conf.py"):
        text = (PROJECT / source).read_text()
        read |= set(re.findall(r'(?:environ\.get|environ\[|env_bool|env_list)\(?\s*"([A-Z_]+)"', text))
        read |= {f"GUNICORN_{name}" for name in re.findall(r'_int\("([A-Z_]+)"', text)}
    read |= {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"}  # read by dj-database-url and prometheus-client
    assert len(read) > 40
    example = (DEPLOY / "environment.example").read_text()
    assert sorted(name for name in read if not re.search(rf"^#? ?{name}=|\b{name} is", example, re.M)) == []


def test_the_systemd_units_are_valid(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    for unit in ("mali-history-web.service", "mali-history-worker.service"):
        text = (
            (DEPLOY / unit).read_text().replace("/srv/mali-history/app/.venv/bin/", f"{Path(sys.executable).parent}/")
        )
        (tmp_path / unit).write_text(text)
        result = subprocess.run(["systemd-analyze", "verify", tmp_path / unit], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "EnvironmentFile=/etc/mali-history/env" in text and "Restart=always" in text
    web = (tmp_path / "mali-history-web.service").read_text()
    assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/mali-history-web/metrics" in web
    assert "ExecStartPre=/bin/rm -rf /run/mali-history-web/metrics" in web


def test_a_session_and_a_csrf_token_from_one_node_work_on_another(migrated, tmp_path):
    """Two app nodes on one database: an editor's requests may reach either, in any order."""
    env = production_env(
        DATABASE_URL=database_copy(migrated, tmp_path),
        REDIS_URL="",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SUPERUSER_PASSWORD=factories.PASSWORD,
    )
    for command in (
        ["collectstatic", "--noinput", "-v", "0"],
        ["createsuperuser", "--noinput", "--username", "chief", "--email", "chief@example.org"],
    ):
        subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=PROJECT, check=True)
    nodes = [Gunicorn({**env, "DJANGO_MEDIA_ROOT": str(tmp_path / f"media-{n}")}) for n in "ab"]
    a, b = nodes
    try:
        session = b.sign_in("chief", form_from=a)  # the form from node A, posted to node B
        for node in (a, b):  # the session node B opened is good on node A too
            admin, body = node.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}"})
            assert admin.status == 200 and b"chief" in body
    finally:
        for node in nodes:
            node.stop()
