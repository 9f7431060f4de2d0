"""/healthz for load balancers: every dependency checked for real, cheap, never cached, any Host."""

import json
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from tests.ops.test_production import PROJECT, production_env
from tests.tasks_for_tests import record

CLOSED_PORT = "127.0.0.1:1"  # nothing listens there: connections are refused at once


@pytest.fixture(autouse=True)
def _media_root(settings):
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)


def test_a_healthy_node_answers_200_with_every_check_and_the_queue_depth(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok", "task_queue": "ok"},
        "queue_depth": 0,
    }


def test_it_is_never_cached_even_with_the_page_cache_on(client, db, settings):
    settings.PUBLIC_PAGE_CACHE = True
    assert client.get("/healthz").json()["queue_depth"] == 0
    record.enqueue("waiting")
    response = client.get("/healthz")
    assert response.json()["queue_depth"] == 1
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]


def test_a_balancer_probing_by_address_is_answered_without_host_or_https_checks(client, db, settings):
    settings.ALLOWED_HOSTS = ["history.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = []
    assert client.get("/", HTTP_HOST="10.0.0.11:8000").status_code == 400  # the site itself refuses the host
    response = client.get("/healthz", HTTP_HOST="10.0.0.11:8000")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert client.head("/healthz", HTTP_HOST="10.0.0.11:8000").status_code == 200


def test_redis_unreachable_gives_503_naming_the_cache(client, db):
    unreachable = {"default": {"BACKEND": "mali_history.cache.RedisCache", "LOCATION": f"redis://{CLOSED_PORT}/0"}}
    with override_settings(CACHES=unreachable):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["checks"]["cache"].startswith("failed: ")
    assert body["checks"]["database"] == body["checks"]["storage"] == body["checks"]["task_queue"] == "ok"
    assert "127.0.0.1" not in response.content.decode()  # the error's kind, not its address


def test_missing_media_storage_gives_503_naming_the_storage(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "not-mounted"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failed: FileNotFoundError"


PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="10.0.0.12:8000")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_postgresql_unreachable_gives_503_naming_the_database(tmp_path):
    """A production process whose PostgreSQL refuses connections: the balancer takes the node out."""
    media = tmp_path / "media"  # made by the autouse fixture
    env = production_env(
        DATABASE_URL=f"postgres://mali:secret@{CLOSED_PORT}/history",
        DJANGO_MEDIA_ROOT=str(media),
        DJANGO_ALLOWED_HOSTS="history.example.org",
    )
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    checks = answer["body"]["checks"]
    assert checks["database"] == "failed: OperationalError"
    assert checks["task_queue"] == "failed: OperationalError"
    assert checks["cache"] == checks["storage"] == "ok"


def test_the_health_check_is_first_in_the_middleware():
    assert django_settings.MIDDLEWARE[0] == "articles.ops.health.HealthMiddleware"
