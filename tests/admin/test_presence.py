"""Presence on change forms (articles/admin/presence.py): who else has the form open, the heartbeat,
expiry, others' pending proposals, and several processes seeing each other through the shared cache.

The browser side (the heartbeat script, autosave) is tests/admin/test_presence_browser.py.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from articles.admin import presence
from articles.models import Section
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def section(moderator):
    article = factories.article(moderator, title="Deployments")
    return factories.section(moderator, article, title="MINUSMA", body="The mission began in 2013.")


@pytest.fixture
def aminata(db):
    user = factories.make_user("aminata", group="Editor")
    user.first_name, user.last_name = "Aminata", "Traoré"
    user.save()
    return user


@pytest.fixture
def clock(monkeypatch):
    now = [datetime(2026, 12, 5, 10, 42, tzinfo=UTC).timestamp()]
    monkeypatch.setattr(presence, "_now", lambda: now[0])
    return now


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def change_url(obj) -> str:
    return reverse(f"admin:articles_{obj._meta.model_name}_change", args=[obj.pk])


def presence_url(obj) -> str:
    return reverse(f"admin:articles_{obj._meta.model_name}_presence", args=[obj.pk])


def notice_text(response) -> str:
    html = response.content.decode() if hasattr(response, "content") else response
    match = re.search(r'<div class="moderation-notice presence-notice".*?</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip() if match else ""


# ---------------------------------------------------------------- the notice at page load


def test_a_second_editor_sees_who_has_the_form_open_with_the_time_they_came(section, aminata, editor, clock):
    first = client_for(aminata).get(change_url(section))
    assert first.status_code == 200
    assert notice_text(first) == ""  # nobody else, and never oneself

    clock[0] += 60
    second = client_for(editor).get(change_url(section))
    assert "Aminata Traoré is editing this section, since 10:42." in notice_text(second)


def test_without_a_full_name_the_username_is_shown(section, editor, moderator, clock):
    client_for(editor).get(change_url(section))
    assert "editor is editing this section, since 10:42." in notice_text(client_for(moderator).get(change_url(section)))


@pytest.mark.parametrize("model", ["article", "section", "topic", "source", "figure", "timelineevent"])
def test_every_moderated_change_form_has_the_notice(model, moderator, aminata, editor, clock):
    source = factories.source(moderator, key="unsc-res-2100")
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    article = factories.article(moderator, title="Deployments")
    objects = {
        "article": article,
        "section": factories.section(moderator, article),
        "topic": topic,
        "source": source,
        "timelineevent": factories.timeline_event(moderator, title="Created", date_year=2013, text="Created."),
        "figure": factories.figure(moderator, SimpleUploadedFile("map.png", png_bytes(), "image/png")),
    }
    obj = objects[model]
    client_for(aminata).get(change_url(obj))
    text = notice_text(client_for(editor).get(change_url(obj)))
    assert f"Aminata Traoré is editing this {obj._meta.verbose_name}, since 10:42." in text


def test_times_are_in_the_site_time_zone_and_an_older_day_is_written_out(section, aminata, editor, clock, settings):
    settings.TIME_ZONE = "Europe/Paris"  # UTC+1 in December
    client_for(aminata).get(change_url(section))
    assert "since 11:42." in notice_text(client_for(editor).get(change_url(section)))

    # Open since yesterday (still beating): the date too, in the site's one date style.
    entry = presence.others(section, editor)[0]
    yesterday = presence.Presence(entry.user_id, entry.name, datetime(2026, 12, 4, 9, 5, tzinfo=UTC))
    with translation.override("en"):
        assert yesterday.since_text() == "December 4, 2026, 10:05"
    with translation.override("fr"):
        assert yesterday.since_text() == "4 décembre 2026, 10:05"


def test_the_notice_is_in_french_for_a_french_admin(section, aminata, editor, clock):
    client_for(aminata).get(change_url(section))
    response = client_for(editor).get(change_url(section), headers={"accept-language": "fr"})
    assert "Aminata Traoré modifie cet objet (« section ») depuis 10:42." in notice_text(response)


def test_the_form_opens_without_the_notice_when_the_cache_fails(section, editor, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(presence.cache, "get", broken)
    monkeypatch.setattr(presence.cache, "add", broken)
    response = client_for(editor).get(change_url(section))
    assert response.status_code == 200
    assert notice_text(response) == "" and 'name="body"' in response.content.decode()


# ---------------------------------------------------------------- the heartbeat


def test_the_heartbeat_answers_the_notices_and_keeps_the_entry_alive(section, aminata, editor, clock):
    client_for(aminata).get(change_url(section))
    editor_client = client_for(editor)
    clock[0] += 60
    response = editor_client.post(presence_url(section), {"page": "p1"})
    assert response.status_code == 200
    data = response.json()
    assert "Aminata Traoré is editing this section, since 10:42." in notice_text(data["presence"])
    # Aminata's entry was written at 10:42 and not refreshed: 90 s later it is gone.
    clock[0] += 31
    assert notice_text(editor_client.post(presence_url(section)).json()["presence"]) == ""
    # The editor kept beating: Aminata still sees them, since the first time they came.
    assert "editor is editing this section, since 10:43." in notice_text(client_for(aminata).get(change_url(section)))


def test_entries_expire_after_ninety_seconds_without_a_heartbeat(section, aminata, editor, clock):
    client_for(aminata).get(change_url(section))
    clock[0] += presence.EXPIRES_SECONDS - 1
    assert [p.name for p in presence.others(section, editor)] == ["Aminata Traoré"]
    clock[0] += 2
    assert presence.others(section, editor) == []


def test_a_heartbeat_after_the_expiry_starts_a_new_since(section, aminata, editor, clock):
    aminata_client = client_for(aminata)
    aminata_client.get(change_url(section))
    clock[0] += 300  # the laptop slept
    aminata_client.post(presence_url(section))
    assert "since 10:47." in notice_text(client_for(editor).get(change_url(section)))


def test_leaving_removes_the_entry_unless_a_newer_page_of_the_same_editor_beat_since(section, aminata, editor):
    aminata_client = client_for(aminata)
    aminata_client.post(presence_url(section), {"page": "old"})
    aminata_client.post(presence_url(section), {"page": "new"})  # a reload or a second tab
    aminata_client.post(presence_url(section), {"page": "old", "leaving": "1"})
    assert [p.name for p in presence.others(section, editor)] == ["Aminata Traoré"]
    aminata_client.post(presence_url(section), {"page": "new", "leaving": "1"})
    assert presence.others(section, editor) == []


def test_the_heartbeat_shows_another_editors_new_proposal_the_editor_would_overlap(section, aminata, editor):
    editor_client = client_for(editor)
    page = editor_client.get(change_url(section)).content.decode()
    assert "pending proposal" not in page
    revision = moderation.propose(
        obj=section, author=aminata, summary="Dates checked", data={**section.snapshot(), "body": "Began 2013."}
    )
    pending = editor_client.post(presence_url(section)).json()["pending"]
    assert f'href="/admin/articles/revision/{revision.pk}/change/"' in pending
    assert "Dates checked" in pending
    assert "Another editor's proposal is waiting: read it before you edit" in pending
    # Aminata's own proposal is no overlap for her: she may amend it.
    own = client_for(aminata).post(presence_url(section)).json()["pending"]
    assert "Another editor" not in own and f"?revision={revision.pk}" in own


def test_the_heartbeat_needs_a_post_with_the_csrf_token(section, editor):
    strict = client_for(editor, enforce_csrf_checks=True)
    assert strict.post(presence_url(section)).status_code == 403
    assert presence.others(section, factories.make_user("someone")) == []
    page = strict.get(change_url(section)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post(presence_url(section), {"csrfmiddlewaretoken": token}).status_code == 200
    assert strict.post(presence_url(section), headers={"x-csrftoken": token}).status_code == 200
    assert strict.get(presence_url(section)).status_code == 405


def test_the_heartbeat_is_for_staff_who_may_change_the_object(section, client, editor):
    url = presence_url(section)
    response = client.post(url)  # anonymous
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    reader = User.objects.create_user("reader", password=factories.PASSWORD)
    response = client_for(reader).post(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # Staff who may only view sections are not "editing" them, and are not told who is.
    viewer = User.objects.create_user("viewer", password=factories.PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_section"))
    client_for(editor).get(change_url(section))
    assert client_for(viewer).post(url).status_code == 403
    response = client_for(viewer).get(change_url(section))
    assert response.status_code == 200 and notice_text(response) == ""
    assert [p.name for p in presence.others(section, factories.make_user("someone"))] == ["editor"]
    # An object that does not exist.
    assert client_for(editor).post(presence_url(Section(pk=999_999))).status_code == 404


def test_a_heartbeat_writes_nothing_to_the_database(section, editor):
    editor_client = client_for(editor)
    editor_client.get(change_url(section))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert editor_client.post(presence_url(section)).status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


# ---------------------------------------------------------------- the autosave token


def test_the_saved_token_changes_when_this_editor_saves_a_proposal_and_only_then(section, aminata, editor):
    def token(user):
        page = client_for(user).get(change_url(section)).content.decode()
        return re.search(r'data-autosave-saved-token="([^"]*)"', page).group(1)

    assert token(editor) == ""
    moderation.propose(obj=section, author=aminata, summary="Hers", data={**section.snapshot(), "body": "Hers."})
    assert token(editor) == ""
    moderation.propose(obj=section, author=editor, summary="Mine", data={**section.snapshot(), "body": "Mine."})
    assert token(editor) != ""
    # A section saved from its article's form counts for the article's form.
    article_page = client_for(editor).get(change_url(section.article)).content.decode()
    assert re.search(r'data-autosave-saved-token="([^"]+)"', article_page)
    assert (
        f'data-autosave-key="{editor.pk}:articles.section:{section.pk}"'
        in client_for(editor).get(change_url(section)).content.decode()
    )


# ---------------------------------------------------------------- several processes, one cache


RECORD_IN_ANOTHER_PROCESS = """
import sys, django
django.setup()
from django.contrib.auth.models import User
from articles.admin import presence
from articles.models import Section
user = User(pk=int(sys.argv[1]), username=sys.argv[2], first_name=sys.argv[3])
presence.record(Section(pk=int(sys.argv[4])), user, page="p")
print("ok")
"""


def test_editors_on_several_app_processes_see_each_other_through_the_shared_cache(shared_redis_cache, editor):
    """Two other processes (as on two app machines) record their editors; this one sees both."""
    section = Section(pk=4242)
    processes = [
        shared_redis_cache(RECORD_IN_ANOTHER_PROCESS, str(pk), username, name, str(section.pk))
        for pk, username, name in ((9001, "aminata", "Aminata"), (9002, "moussa", "Moussa"))
    ]
    assert [p.communicate(timeout=60)[0].strip().splitlines()[-1] for p in processes] == ["ok", "ok"]
    from django.core.cache import caches

    caches["default"].close()
    try:
        assert sorted(p.name for p in presence.others(section, editor)) == ["Aminata", "Moussa"]
        presence.record(section, editor, page="here")
        assert len(presence._live(presence.cache.get(presence._key(section)), presence._now())) == 3
        # The entry expires in Redis itself, not only when read.
        assert 0 < presence.cache._cache.get_client().ttl(presence.cache.make_key(presence._key(section))) <= 90
    finally:
        presence.cache.delete(presence._key(section))


def test_the_heartbeat_endpoint_answers_json(section, editor):
    response = client_for(editor).post(presence_url(section))
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"presence", "pending"}
