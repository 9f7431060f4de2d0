"""The write API: a token holder's proposals reach the review queue and nothing else; everyone else is refused."""

import json

import pytest
from django.contrib.auth.models import Group

from articles.models import ApiToken, Revision, RevisionStatus, Section, Source
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def make_token(user, name="Script"):
    token = ApiToken(user=user, name=name)
    raw = token.issue()
    token.save()
    return raw


@pytest.fixture
def site(moderator):
    objects = factories.mandate_site(moderator)
    objects["event"] = factories.timeline_event(moderator, title="MINUSMA created", date_year=2013)
    return objects


@pytest.fixture
def token(editor):
    return make_token(editor)


def post(client, url, data, raw=None, **extra):
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers, **extra)


def body(response):
    return json.loads(response.content)


def test_a_token_holders_section_edit_waits_in_the_queue_and_a_moderator_approves_it(
    client, site, editor, moderator, token
):
    section = site["section"]
    response = post(
        client,
        f"/api/v1/proposals/sections/{section.pk}",
        {"summary": "Say when", "body": "The Council set up the mission on 25 April 2013 [@unsc-res-2100]."},
        token,
    )
    assert response.status_code == 201, response.content
    proposal = body(response)
    assert proposal["status"] == "pending" and proposal["kind"] == "section" and proposal["action"] == "change"
    revision = Revision.objects.get(pk=proposal["id"])
    assert revision.author == editor
    assert revision.base_id == section.live_revision_id
    assert revision.data["title"] == "Mandate"  # left out: kept as published
    section.refresh_from_db()
    assert "25 April" not in section.body  # readers see nothing yet
    assert "25 April" not in client.get(f"/api/v1/sections/{section.pk}").content.decode()

    # The moderator finds it in the review queue and approves it there.
    client.force_login(moderator)
    queue = client.get("/admin/articles/revision/")
    assert "Say when" in queue.content.decode()
    assert client.get(f"/admin/articles/revision/{revision.pk}/change/").status_code == 200
    client.post(f"/admin/articles/revision/{revision.pk}/approve/")
    client.logout()
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PUBLISHED
    assert "25 April 2013" in body(client.get(f"/api/v1/sections/{section.pk}"))["html"]
    status = body(client.get(proposal["api_url"], headers={"Authorization": f"Bearer {token}"}))
    assert status["status"] == "published"


def test_a_new_source_is_proposed_as_a_draft_readers_never_see(client, site, token):
    response = post(
        client,
        "/api/v1/proposals/sources",
        {
            "summary": "The 2014 renewal",
            "key": "unsc-res-2164",
            "title": "Resolution 2164 (2014)",
            "kind": "un_document",
            "authors": [],
            "date_year": 2014,
            "date_month": 6,
            "date_day": 25,
            "identifier": "S/RES/2164 (2014)",
        },
        token,
    )
    assert response.status_code == 201, response.content
    assert body(response)["action"] == "create"
    source = Source.objects.get(key="unsc-res-2164")
    assert source.state == "draft"
    assert client.get("/api/v1/sources/unsc-res-2164").status_code == 404


def test_topics_events_and_sources_take_proposals_too(client, site, token, moderator):
    responses = [
        post(client, "/api/v1/proposals/topics/peacekeeping", {"summary": "Same", "name": "Peacekeeping"}, token),
        post(client, "/api/v1/proposals/topics/peacekeeping", {"summary": "Describe", "body": "UN missions."}, token),
        post(client, f"/api/v1/proposals/timeline-events/{site['event'].pk}", {"summary": "Day", "date_day": 25, "date_month": 4}, token),
        post(client, "/api/v1/proposals/sources/unsc-res-2100", {"summary": "Link", "url": "https://undocs.org/S/RES/2100(2013)", "accessed_on": "2026-11-01"}, token),
        post(client, f"/api/v1/proposals/sections/{site['section'].pk}", {"summary": "Tag", "topics": []}, token),
    ]  # fmt: skip
    assert [r.status_code for r in responses] == [400, 201, 201, 201, 201]
    assert "Nothing would change" in body(responses[0])["detail"]
    for response in responses[1:]:
        revision = Revision.objects.get(pk=body(response)["id"])
        moderation.approve(revision=revision, moderator=moderator)
    assert body(client.get(f"/api/v1/timeline-events/{site['event'].pk}"))["date"] == "2013-04-25"
    assert body(client.get("/api/v1/topics/peacekeeping"))["description_html"] == "<p>UN missions.</p>\n"
    source = body(client.get("/api/v1/sources/unsc-res-2100"))
    assert (source["url"], source["accessed_on"]) == ("https://undocs.org/S/RES/2100(2013)", "2026-11-01")
    assert body(client.get(f"/api/v1/sections/{site['section'].pk}"))["topics"] == []


@pytest.mark.parametrize(
    "data,field,words",
    [
        ({"body": "As said [@no-such-source]."}, "body", "no-such-source"),
        ({"body": "Hello <script>alert(1)</script>"}, "body", "Raw HTML"),
        ({"body": "Look <img src=x onerror=alert(1)>"}, "body", "Raw HTML"),
        ({"body": "[click](javascript:alert(1))"}, "body", "javascript"),
        ({"body": "Null \x00 here"}, "body", "null character"),
        ({"title": "Null \x00 here", "anchor": "a\x00b"}, "anchor", "null character"),
        ({"body": "Long place [@unsc-res-2100, " + "p" * 250 + "]"}, "body", "too long"),
        ({"body": "{{timeline:nowhere}}"}, "body", "names no published topic"),
        ({"topics": ["no-such-topic"]}, "topics", "no-such-topic"),
        ({"topics": ["peacekeeping", "a\x00b"]}, "topics", "a\x00b"),
        ({"anchor": "not a slug!"}, "anchor", "slug"),
        ({"title": "x" * 301}, "title", "300"),
        ({"parent": 999999}, "parent", "no such section"),
        ({"summary": ""}, "summary", "edit summary"),
        ({"position": "first"}, "position", "integer"),
        ({"colour": "red"}, "colour", "xtra"),
        ({"title": "New", "base_revision": 999999}, "base_revision", "not a revision"),
        ({"position": 10**20}, "position", "less than or equal"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_records_nothing(client, site, token, data, field, words):
    section = site["section"]
    payload = {"summary": "Try", **data}
    response = post(client, f"/api/v1/proposals/sections/{section.pk}", payload, token)
    assert response.status_code == 400, response.content
    problem = body(response)
    messages = " ".join(problem.get("errors", {}).get(field, [])) or problem["detail"]
    assert words.lower() in messages.lower(), problem
    assert Revision.objects.pending().count() == 0


def test_a_bad_new_source_is_refused_and_leaves_no_draft(client, site, token):
    response = post(
        client,
        "/api/v1/proposals/sources",
        {"summary": "New", "key": "unsc-res-2100", "title": "Taken key", "url": "not a url", "kind": "poem"},
        token,
    )
    assert response.status_code == 400
    errors = body(response)["errors"]
    assert {"key", "url", "kind"} <= set(errors)
    assert "already exists" in errors["key"][0]
    bad_date = post(
        client, "/api/v1/proposals/sources", {"summary": "New", "key": "k", "title": "T", "date_month": 13}, token
    )
    assert bad_date.status_code == 400 and body(bad_date)["errors"] == {
        "date_month": ["A month is a number from 1 to 12."]
    }
    assert Source.objects.count() == 1 and Revision.objects.pending().count() == 0
    nul = post(client, "/api/v1/proposals/sources", {"summary": "New", "key": "a\x00b", "title": "T"}, token)
    assert nul.status_code == 400 and "null character" in body(nul)["errors"]["key"][0]
    missing = post(client, "/api/v1/proposals/sources", {"summary": "New"}, token)
    assert missing.status_code == 400 and {"key", "title"} <= set(body(missing)["errors"])


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer mh_not-a-real-token", "Basic ZWRpdG9yOnBhc3M=", "Token mh_x", "Bearer " + "x" * 500],
)
def test_writes_without_a_valid_token_are_401(client, site, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(
        f"/api/v1/proposals/sections/{site['section'].pk}",
        json.dumps({"summary": "Hi", "title": "New"}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Revision.objects.pending().count() == 0


def test_a_signed_in_editor_cannot_write_with_the_session_alone(client, site, editor):
    """Writes take a token only: a browser's cookies (and so a forged cross-site request) do nothing."""
    client.force_login(editor)
    response = post(client, f"/api/v1/proposals/sections/{site['section'].pk}", {"summary": "Hi", "title": "New"})
    assert response.status_code == 401
    assert Revision.objects.pending().count() == 0


def test_a_revoked_token_is_refused(client, site, editor, token):
    ApiToken.objects.get(user=editor).revoke()
    response = post(
        client, f"/api/v1/proposals/sections/{site['section'].pk}", {"summary": "Hi", "title": "New"}, token
    )
    assert response.status_code == 401
    assert Revision.objects.pending().count() == 0


def test_a_token_of_someone_who_may_no_longer_propose_is_403(client, site, editor, token):
    editor.groups.remove(Group.objects.get(name="Editor"))
    response = post(
        client, f"/api/v1/proposals/sections/{site['section'].pk}", {"summary": "Hi", "title": "New"}, token
    )
    assert response.status_code == 403
    assert "may not" in body(response)["detail"]
    editor.groups.add(Group.objects.get(name="Editor"))
    editor.is_active = False
    editor.save()
    assert (
        post(client, "/api/v1/proposals/topics/peacekeeping", {"summary": "Hi", "name": "X"}, token).status_code == 401
    )


def test_a_token_records_when_it_was_last_used(client, site, editor, token):
    assert ApiToken.objects.get(user=editor).last_used_at is None
    post(client, "/api/v1/proposals/topics/peacekeeping", {"summary": "Hi", "name": "Peace"}, token)
    assert ApiToken.objects.get(user=editor).last_used_at is not None


def test_writes_are_limited_per_token(client, site, editor, token, settings):
    settings.API_WRITE_RATE = "2/h"
    url = "/api/v1/proposals/topics/peacekeeping"
    statuses = [post(client, url, {"summary": f"Try {n}", "name": f"Peace {n}"}, token).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    refused = post(client, url, {"summary": "Again", "name": "Peace 4"}, token)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    # Another token (another script) has its own allowance.
    other = make_token(factories.make_user("other", group="Editor"))
    assert post(client, url, {"summary": "Mine", "name": "Peace 5"}, other).status_code == 201
    assert Revision.objects.pending().count() == 3


def test_a_proposals_status_is_for_its_author_and_moderators(client, site, editor, moderator, token):
    proposal = body(post(client, "/api/v1/proposals/topics/peacekeeping", {"summary": "Hi", "name": "Peace"}, token))
    other = make_token(factories.make_user("other", group="Editor"))
    assert client.get(proposal["api_url"], headers={"Authorization": f"Bearer {other}"}).status_code == 404
    boss = make_token(moderator)
    assert client.get(proposal["api_url"], headers={"Authorization": f"Bearer {boss}"}).status_code == 200
    assert client.get(proposal["api_url"]).status_code == 401


def test_an_edit_based_on_an_older_revision_is_stale_for_the_moderator(client, site, token, moderator):
    section = site["section"]
    base = section.live_revision_id
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Meanwhile", data={**section.snapshot(), "title": "The mandate"}
    )
    response = post(
        client,
        f"/api/v1/proposals/sections/{section.pk}",
        {"summary": "Old", "anchor": "mandate-2013", "base_revision": base},
        token,
    )
    assert response.status_code == 201
    revision = Revision.objects.get(pk=body(response)["id"])
    assert revision.base_id == base
    # Approved, it merges with what was published meanwhile rather than undoing it.
    moderation.approve(revision=revision, moderator=moderator, merge=True)
    section.refresh_from_db()
    assert (section.title, section.anchor) == ("The mandate", "mandate-2013")


def test_only_published_objects_take_proposals(client, site, token):
    draft = Section.objects.create(article=site["article"], title="Draft", anchor="draft")
    response = post(client, f"/api/v1/proposals/sections/{draft.pk}", {"summary": "Hi", "title": "New"}, token)
    assert response.status_code == 404


def test_the_token_is_stored_only_as_a_digest(editor):
    token = ApiToken(user=editor, name="Script")
    raw = token.issue()
    token.save()
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in json.dumps(stored, default=str)
    assert raw.startswith("mh_") and len(raw) > 40
    assert ApiToken.objects.authenticate(raw) == token
    assert ApiToken.objects.authenticate(raw + "x") is None


def test_error_messages_follow_the_clients_language(client, site, token):
    response = client.post(
        f"/api/v1/proposals/sections/{site['section'].pk}",
        json.dumps({"summary": "Essai", "body": "<b>gras</b>"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"},
    )
    problem = body(response)
    assert problem["detail"] == "La proposition contient des erreurs."
    assert problem["errors"]["body"] == [
        "Le HTML brut n’est pas accepté : « <b> ». Écrivez en Markdown (il serait affiché comme du texte)."
    ]
