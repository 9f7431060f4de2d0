"""Several app nodes behind a load balancer: the production server's side of it.

gunicorn with production settings and two worker processes: the balancer's probe by address,
metrics added up across processes, and the proxies trusted by gunicorn and Django alike.
"""

import http.client
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.ops.test_production import PROJECT, free_port, gunicorn_config, production_env


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


def test_two_gunicorn_workers_answer_the_balancer_and_add_up_their_metrics(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (tmp_path / "media").mkdir()
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
        DJANGO_ALLOWED_HOSTS="history.example.org",
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=PROJECT, check=True)
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
