"""API tokens in the admin: made and revoked by their owner (or a superuser), shown once, stored as a digest."""

import json
import re

import pytest

from articles.models import ApiToken
from tests import factories

pytestmark = pytest.mark.django_db


def _create(client, **data):
    response = client.post("/admin/articles/apitoken/add/", {"name": "Zotero sync", **data})
    assert response.status_code == 200, response.content[:500]
    raw = re.search(r'value="(mh_[^"]+)"', response.content.decode()).group(1)
    return response, raw


def _propose(client, raw):
    return client.post(
        "/api/v1/proposals/topics/minusma",
        json.dumps({"summary": "From the script", "name": "MINUSMA mission"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


@pytest.fixture
def topic(moderator):
    return factories.topic(moderator, name="MINUSMA", slug="minusma")


def test_an_editor_makes_a_token_sees_it_once_and_a_script_proposes_with_it(client, editor, topic):
    client.force_login(editor)
    response, raw = _create(client)
    assert "no-store" in response["Cache-Control"]
    assert "shown only this once" in response.content.decode()
    token = ApiToken.objects.get()
    assert token.user == editor and token.hint == raw[:9]
    assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)
    # The list and the token's own page show only its first characters.
    listing = client.get("/admin/articles/apitoken/").content.decode()
    assert token.hint in listing and raw not in listing
    assert raw not in client.get(f"/admin/articles/apitoken/{token.pk}/change/").content.decode()
    client.logout()
    assert _propose(client, raw).status_code == 201


def test_an_editor_sees_and_makes_only_their_own_tokens(client, editor, topic):
    other = factories.make_user("other", group="Editor")
    theirs = ApiToken(user=other, name="Theirs")
    theirs.issue()
    theirs.save()
    client.force_login(editor)
    assert "Theirs" not in client.get("/admin/articles/apitoken/").content.decode()
    assert client.get(f"/admin/articles/apitoken/{theirs.pk}/change/").status_code == 302
    _create(client, user=other.pk)  # the field is not theirs to set: ignored
    assert ApiToken.objects.get(name="Zotero sync").user == editor


def test_a_superuser_makes_a_token_for_someone_else(client, superuser, editor, topic):
    client.force_login(superuser)
    assert 'name="user"' in client.get("/admin/articles/apitoken/add/").content.decode()
    _response, raw = _create(client, user=editor.pk)
    assert ApiToken.objects.get().user == editor
    client.logout()
    response = _propose(client, raw)
    assert response.status_code == 201


def test_a_revoked_token_stops_working_and_stays_listed(client, editor, topic):
    client.force_login(editor)
    _response, raw = _create(client)
    token = ApiToken.objects.get()
    response = client.post(
        "/admin/articles/apitoken/", {"action": "revoke_selected", "_selected_action": [token.pk]}, follow=True
    )
    assert "1 token revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert _propose(client, raw).status_code == 401
    assert ApiToken.objects.count() == 1


def test_readers_and_signed_out_visitors_cannot_make_tokens(client, db):
    from django.contrib.auth.models import User

    assert client.get("/admin/articles/apitoken/add/").status_code == 302
    staff_without_role = User.objects.create_user("clerk", password=factories.PASSWORD, is_staff=True)
    client.force_login(staff_without_role)
    assert client.post("/admin/articles/apitoken/add/", {"name": "Mine"}).status_code == 403
    assert ApiToken.objects.count() == 0


def test_the_token_page_follows_the_admin_language(client, editor):
    client.force_login(editor)
    response = client.post("/admin/articles/apitoken/add/", {"name": "Script"}, headers={"Accept-Language": "fr"})
    html = response.content.decode()
    assert "Copiez-le maintenant" in html and "Vos jetons d’API" in html
    assert "Jetons d’API" in client.get("/admin/articles/apitoken/", headers={"Accept-Language": "fr"}).content.decode()
