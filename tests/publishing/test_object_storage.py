"""Several machines share what is written at run time through an object store: baked pages and
media go through STORAGES, here django-storages' S3Storage against moto's S3-compatible server
(a real HTTP server on loopback, standing in for the production object store)."""

import io
import secrets
import socket

import boto3
import pytest
from django.core.management import call_command
from moto.server import ThreadedMotoServer

from articles.revisions import moderation
from tests import factories
from tests.publishing.test_renditions import image_upload

pytestmark = pytest.mark.django_db

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def object_store(s3_endpoint, settings):
    """Two fresh buckets, media and baked pages, configured as a deployment would (environment JSON)."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name=REGION,
    )
    suffix = secrets.token_hex(4)
    buckets = {"media": f"media-{suffix}", "baked": f"baked-{suffix}"}
    for bucket in buckets.values():
        client.create_bucket(Bucket=bucket)

    def s3(bucket, **options):
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": options
            | {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": REGION,
                "querystring_auth": False,
                "file_overwrite": True,
            },
        }

    # Media are read through nginx at the site's own /media/ (deploy/nginx-object-store.conf.example).
    media = s3(buckets["media"], custom_domain="history.example.org/media", url_protocol="https:")
    settings.STORAGES = {**settings.STORAGES, "default": media, "baked": s3(buckets["baked"])}
    settings.PUBLIC_PAGE_CACHE = True

    def keys(kind):
        found = client.list_objects_v2(Bucket=buckets[kind]).get("Contents", [])
        return {item["Key"] for item in found}

    def read(kind, key):
        return client.get_object(Bucket=buckets[kind], Key=key)["Body"].read().decode()

    client.keys, client.read, client.buckets = keys, read, buckets
    return client


def test_publishing_removes_and_rebakes_pages_in_the_object_store(
    object_store, moderator, run_tasks, django_capture_on_commit_callbacks
):
    site = factories.mandate_site(moderator)
    call_command("bake_site", stdout=io.StringIO())
    assert {"index.html", "articles/minusma/index.html", "fr/articles/minusma/index.html"} <= object_store.keys("baked")
    assert "April 2013" in object_store.read("baked", "articles/minusma/index.html")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(
            obj=site["section"],
            moderator=moderator,
            summary="Edit",
            data={**site["section"].snapshot(), "body": "Resolution 2100 created MINUSMA [@unsc-res-2100]."},
        )
    # Once the publish commits, nginx finds no stale object and asks Django...
    assert "articles/minusma/index.html" not in object_store.keys("baked")
    run_tasks()
    # ...and the worker puts the new page back, in both languages.
    assert "Resolution 2100 created MINUSMA" in object_store.read("baked", "articles/minusma/index.html")
    assert "Resolution 2100 created MINUSMA" in object_store.read("baked", "fr/articles/minusma/index.html")


def test_bake_site_prunes_objects_of_pages_that_no_longer_exist(object_store, moderator):
    factories.mandate_site(moderator)
    object_store.put_object(Bucket=object_store.buckets["baked"], Key="articles/gone/index.html", Body=b"old")
    call_command("bake_site", stdout=io.StringIO())
    keys = object_store.keys("baked")
    assert "articles/gone/index.html" not in keys and "articles/minusma/index.html" in keys


def test_figures_and_their_renditions_are_stored_in_the_object_store(object_store, client, moderator):
    figure = factories.figure(moderator, image_upload(), alt_text="A map of Mali", caption="Mali")
    article = factories.article(moderator, title="Maps", slug="maps", lead_figure=figure)
    media = object_store.keys("media")
    assert figure.image.name in media
    assert {entry["name"] for entry in figure.renditions} <= media and figure.renditions
    html = client.get(article.get_absolute_url()).content.decode()
    # Readers get the images at the site's /media/ address, which nginx proxies to the bucket.
    assert f'src="https://history.example.org/media/{figure.image.name}"' in html
