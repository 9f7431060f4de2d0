"""/metrics in Prometheus' format: who may read it, and what it counts."""

import datetime
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from articles.revisions import moderation
from tests import factories
from tests.ops.test_production import PROJECT
from tests.tasks_for_tests import record

pytestmark = pytest.mark.django_db

OUTSIDER = "203.0.113.5"  # a reader on the internet


def scrape(client=None, **extra) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, as read from this machine (127.0.0.1 is allowed by default)."""
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# --- Who may read it -------------------------------------------------------------------------------


def test_an_anonymous_reader_on_the_internet_gets_a_404():
    assert Client(REMOTE_ADDR=OUTSIDER).get("/metrics").status_code == 404


@pytest.mark.parametrize("role", ["Editor", "Moderator"])
def test_editors_and_moderators_get_a_404(role):
    client = Client(REMOTE_ADDR=OUTSIDER)
    client.force_login(factories.make_user(role.lower(), group=role))
    assert client.get("/metrics").status_code == 404


def test_a_superuser_reads_it_from_anywhere(superuser):
    client = Client(REMOTE_ADDR=OUTSIDER)
    client.force_login(superuser)
    assert "mali_history_task_queue_depth" in client.get("/metrics").content.decode()


def test_staff_given_the_task_results_permission_read_it():
    user = factories.make_user("operator", group="Editor")
    user.user_permissions.add(Permission.objects.get(codename="view_dbtaskresult"))
    client = Client(REMOTE_ADDR=OUTSIDER)
    client.force_login(user)
    assert client.get("/metrics").status_code == 200


def test_the_allowed_address_reads_it_signed_out_and_by_the_nodes_own_address(settings):
    settings.ALLOWED_HOSTS = ["history.example.org"]
    settings.METRICS_ALLOWED_IPS = ["10.0.0.5"]
    prometheus = Client(REMOTE_ADDR="10.0.0.5")
    assert prometheus.get("/metrics", HTTP_HOST="10.0.0.11:8000").status_code == 200
    assert Client(REMOTE_ADDR="10.0.0.6").get("/metrics", HTTP_HOST="history.example.org").status_code == 404


def test_a_forwarded_for_header_from_an_untrusted_client_is_ignored():
    spoofer = Client(REMOTE_ADDR=OUTSIDER)
    assert spoofer.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404


def test_a_reader_coming_through_the_local_nginx_is_not_the_local_machine():
    """Behind nginx on the same machine every request comes from 127.0.0.1; nginx says who asked."""
    through_nginx = Client(REMOTE_ADDR="127.0.0.1")
    # nginx appends the address it saw to whatever the client claimed.
    assert through_nginx.get("/metrics", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {OUTSIDER}").status_code == 404
    assert through_nginx.get("/metrics").status_code == 200  # the machine itself, no proxy involved


def test_behind_a_trusted_balancer_the_address_it_reports_counts(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    settings.METRICS_ALLOWED_IPS = ["10.0.0.9"]
    balancer = Client(REMOTE_ADDR="10.0.0.2")
    assert balancer.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 200
    assert balancer.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDER).status_code == 404


# --- What it counts --------------------------------------------------------------------------------


def test_it_names_every_metric_and_is_never_cached(client):
    response = client.get("/metrics")
    text = response.content.decode()
    for name in (
        "mali_history_http_responses_total",
        "mali_history_publish_seconds_count",
        "mali_history_publish_seconds_bucket",
        "mali_history_page_cache_requests_total",
        "mali_history_task_queue_depth",
        "mali_history_task_queue_oldest_age_seconds",
    ):
        assert name in text, name
    assert "no-store" in response["Cache-Control"]


def test_responses_are_counted_by_status_class(client):
    before = scrape(client)
    client.get("/articles/no-such-article/")
    client.get("/articles/no-such-article/")
    client.get("/robots.txt")
    after = scrape(client)
    name = "mali_history_http_responses_total"
    assert value(after, name, status="4xx") - value(before, name, status="4xx") == 2
    # Prometheus' own scrapes and the balancer's probes are answered before the count.
    assert value(after, name, status="2xx") - value(before, name, status="2xx") == 1


def test_a_publish_is_observed_in_the_latency_histogram(moderator):
    article = factories.article(moderator, title="Timbuktu", slug="timbuktu")
    before = scrape()
    moderation.publish_directly(
        obj=article, moderator=moderator, summary="New title", data={**article.snapshot(), "title": "Tombouctou"}
    )
    after = scrape()
    assert value(after, "mali_history_publish_seconds_count") - value(before, "mali_history_publish_seconds_count") == 1
    assert value(after, "mali_history_publish_seconds_sum") > value(before, "mali_history_publish_seconds_sum")


def test_page_cache_hits_and_misses_are_counted(moderator, settings):
    settings.PUBLIC_PAGE_CACHE = True
    factories.article(moderator, title="Gao", slug="gao")
    reader = Client(REMOTE_ADDR=OUTSIDER)
    before = scrape()
    reader.get("/articles/gao/")  # stored
    reader.get("/articles/gao/")  # answered from the cache
    reader.get("/articles/gao/")
    after = scrape()
    name = "mali_history_page_cache_requests_total"
    assert value(after, name, result="miss") - value(before, name, result="miss") == 1
    assert value(after, name, result="hit") - value(before, name, result="hit") == 2


def test_the_task_queue_depth_and_the_age_of_its_oldest_ready_task():
    assert value(scrape(), "mali_history_task_queue_depth") == 0
    old = record.enqueue("waiting since a while")
    record.enqueue("just in")
    record.using(run_after=timezone.now() + datetime.timedelta(hours=1)).enqueue("not ready yet")
    # Enqueued long ago to run at a time just past: it has waited since that time only.
    record.using(run_after=timezone.now() - datetime.timedelta(minutes=5)).enqueue("due a while ago")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(days=3))
    DBTaskResult.objects.filter(id=old.id).update(enqueued_at=timezone.now() - datetime.timedelta(minutes=10))
    DBTaskResult.objects.exclude(id=old.id).filter(args_kwargs__args=["just in"]).update(enqueued_at=timezone.now())
    found = scrape()
    assert value(found, "mali_history_task_queue_depth") == 3
    assert 600 <= value(found, "mali_history_task_queue_oldest_age_seconds") < 700


COUNT_ONE_RESPONSE = """
import django
django.setup()
from articles.publishing import metrics
metrics.RESPONSES.labels("2xx").inc()
"""

SCRAPE = """
import django
django.setup()
from articles.publishing import metrics
print(metrics.exposition().decode())
"""


def test_several_worker_processes_add_up_in_multiprocess_mode(tmp_path):
    """gunicorn runs several processes: with PROMETHEUS_MULTIPROC_DIR a scrape sees them all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mali_history.settings"}
    env.pop("DATABASE_URL", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"  # no task table: the queue is left out
    for _ in range(3):
        subprocess.run([sys.executable, "-c", COUNT_ONE_RESPONSE], env=env, cwd=PROJECT, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, cwd=PROJECT, check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert value(samples(out), "mali_history_http_responses_total", status="2xx") == 3
