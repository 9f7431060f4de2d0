"""Reader corrections: the public form, its protections, and the moderators' decisions."""

import pytest
from django.core import mail
from django.test import Client

from articles.models import CorrectionStatus, CorrectionSuggestion, Revision
from articles.revisions import moderation
from tests import factories
from tests.adminforms import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def section(moderator):
    article = factories.article(moderator, title="Corrections", slug="corrections")
    return factories.section(moderator, article, title="Dates", anchor="dates", body="MINUSMA deployed in 2014.")


URL = "/articles/corrections/sections/dates/suggest/"


def test_every_section_links_to_its_form(client, section):
    assert URL in client.get("/articles/corrections/").content.decode()
    page = client.get(URL)
    assert page.status_code == 200 and "What is wrong?" in page.content.decode()
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]


def test_a_reader_suggests_a_correction_and_it_reaches_the_queue(client, moderator, section):
    response = client.post(
        URL,
        {
            "problem": "It was deployed in 2013.",
            "suggested_text": "MINUSMA deployed in 2013.",
            "source_reference": "S/RES/2100 (2013)",
            "email": "reader@example.org",
        },
    )
    assert "Thank you" in response.content.decode()
    suggestion = CorrectionSuggestion.objects.get()
    assert suggestion.section == section and suggestion.status == CorrectionStatus.OPEN
    client.force_login(moderator)
    queue = client.get("/admin/articles/revision/").content.decode()
    assert "1 reader correction is waiting" in queue
    assert "It was deployed in 2013." in client.get("/admin/articles/correctionsuggestion/").content.decode()


def test_the_honeypot_stores_nothing_but_looks_the_same(client, section):
    response = client.post(URL, {"problem": "Buy now", "website": "http://spam.example"})
    assert "Thank you" in response.content.decode()
    assert not CorrectionSuggestion.objects.exists()


def test_length_limits_and_required_fields(client, section):
    response = client.post(URL, {"problem": "x" * 2001})
    assert "at most 2000 characters" in response.content.decode()
    response = client.post(URL, {"problem": ""})
    assert "This field is required" in response.content.decode()
    assert not CorrectionSuggestion.objects.exists()


def test_rate_limit_per_client(client, section, settings):
    for _ in range(5):
        client.post(URL, {"problem": "Another problem."})
    response = client.post(URL, {"problem": "One too many."})
    assert response.status_code == 429 and "try again later" in response.content.decode()
    assert CorrectionSuggestion.objects.count() == 5
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert "Thank you" in other.post(URL, {"problem": "From elsewhere."}).content.decode()


def test_behind_nginx_or_a_balancer_each_reader_has_a_limit_of_their_own(section, settings):
    """Through a proxy every request comes from the proxy's address; the address it reports counts."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.2"]
    for proxy in ("127.0.0.1", "10.0.0.2"):  # nginx on the machine, then a balancer in front of two nodes
        first = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
        for _ in range(5):
            first.post(URL, {"problem": "Another problem."})
        assert first.post(URL, {"problem": "One too many."}).status_code == 429
        second = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{8 if proxy == '127.0.0.1' else 9}")
        assert second.post(URL, {"problem": "From another reader."}).status_code == 200
    assert CorrectionSuggestion.objects.filter(problem="From another reader.").count() == 2
    # A client that is not a proxy cannot escape its limit by claiming another address.
    direct = Client(REMOTE_ADDR="203.0.113.20")
    for n in range(6):
        response = direct.post(URL, {"problem": "Spoofed."}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert response.status_code == 429


def test_csrf_is_required(section):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, {"problem": "No token."}).status_code == 403
    assert not CorrectionSuggestion.objects.exists()


def test_unpublished_sections_take_no_suggestions(client, moderator, section):
    moderation.publish_directly(obj=section, moderator=moderator, summary="Remove", action="delete")
    assert client.get(URL).status_code == 404


def test_turned_into_a_proposal_the_reader_hears_when_it_is_published(
    client, django_capture_on_commit_callbacks, editor, moderator, section
):
    suggestion = CorrectionSuggestion.objects.create(section=section, problem="Wrong year.", email="reader@example.org")
    client.force_login(editor)
    url = f"/admin/articles/section/{section.pk}/change/?correction={suggestion.pk}"
    form = client.get(url)
    assert "A reader suggests:" in form.content.decode()
    client.post(url, admin_form_data(form, body="MINUSMA deployed in 2013.", edit_summary="Reader correction"))
    suggestion.refresh_from_db()
    revision = Revision.objects.get(summary="Reader correction")
    assert suggestion.status == CorrectionStatus.PROPOSED and suggestion.revision == revision

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve(revision=revision, moderator=moderator)
    suggestion.refresh_from_db()
    assert suggestion.status == CorrectionStatus.ACCEPTED
    assert any(m.to == ["reader@example.org"] and "accepted" in m.subject for m in mail.outbox)


def test_dismissed_with_a_note_the_reader_is_told(client, django_capture_on_commit_callbacks, moderator, section):
    suggestion = CorrectionSuggestion.objects.create(section=section, problem="Wrong.", email="reader@example.org")
    client.force_login(moderator)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/articles/correctionsuggestion/{suggestion.pk}/change/",
            {"dismiss": "1", "note": "The resolution says 2013."},
        )
    suggestion.refresh_from_db()
    assert suggestion.status == CorrectionStatus.DISMISSED
    assert mail.outbox and "The resolution says 2013." in mail.outbox[0].body


def test_editors_cannot_decide(client, editor, section):
    suggestion = CorrectionSuggestion.objects.create(section=section, problem="Wrong.")
    client.force_login(editor)
    response = client.post(f"/admin/articles/correctionsuggestion/{suggestion.pk}/change/", {"accept": "1"})
    assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == CorrectionStatus.OPEN
