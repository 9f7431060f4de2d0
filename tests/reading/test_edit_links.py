""" "Edit" beside each section for signed-in editors only; readers get "Suggest a correction", and the
page cache never hands one of them the other's page."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db

URL = "/articles/deployments/"
EDIT = "/admin/articles/section/"


@pytest.fixture
def section(moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    return factories.section(moderator, article, title="Arrival", anchor="arrival", body="The mission arrived.")


def test_anonymous_readers_get_suggest_a_correction_and_no_edit_link(client, section):
    page = client.get(URL).content.decode()
    assert "Suggest a correction" in page and EDIT not in page


@pytest.mark.parametrize("who", ["editor", "moderator"])
def test_signed_in_editors_get_the_edit_link(client, section, who, request):
    client.force_login(request.getfixturevalue(who))
    assert f'href="{EDIT}{section.pk}/change/?next=' in client.get(URL).content.decode()


def test_staff_who_may_not_propose_get_no_edit_link(client, section):
    client.force_login(factories.make_user("clerk"))  # staff, in no editorial group
    assert EDIT not in client.get(URL).content.decode()


def test_the_page_cache_keeps_readers_and_editors_apart(settings, section, editor):
    settings.PUBLIC_PAGE_CACHE = True
    reader, staff = Client(), Client()
    staff.force_login(editor)
    assert EDIT not in reader.get(URL).content.decode()  # stored for readers
    with CaptureQueriesContext(connection) as queries:
        cached = reader.get(URL)
    assert len(queries) == 0 and EDIT not in cached.content.decode(), "readers are answered from the cache"
    assert EDIT in staff.get(URL).content.decode(), "an editor never gets the readers' cached page"
    assert EDIT not in reader.get(URL).content.decode()
    # The other way round: an editor's page is never stored for readers.
    cache.clear()
    assert EDIT in staff.get(URL).content.decode()
    assert EDIT not in reader.get(URL).content.decode()
