"""Figure proposals on the review page: the image, its size and alt text; no approval without alt
text, which never comes from the file name; the section and the figure proposed together are shown together."""

import pytest
from django.core.exceptions import ValidationError

from articles.models import Figure, Revision, RevisionStatus
from articles.revisions import moderation
from tests import factories
from tests.admin.test_markdownx_endpoints import UPLOAD_URL, image_bytes, stored_files, upload
from tests.adminforms import admin_form_data

pytestmark = pytest.mark.django_db


def upload_figure(client, name="gao-airport_2013.png"):
    response = client.post(UPLOAD_URL, {"image": upload(name, image_bytes("PNG"), "image/png")})
    assert response.status_code == 200, response.content
    figure = Figure.objects.get(pk=response.json()["figure_id"])
    return figure, Revision.objects.for_object(figure).get(), response.json()["image_code"]


def review_page(client, revision):
    response = client.get(f"/admin/articles/revision/{revision.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_uploaded_image_gets_no_alt_text_from_its_file_name(editor_client):
    figure, revision, code = upload_figure(editor_client)
    assert figure.alt_text == "" and revision.data["alt_text"] == ""
    assert code.startswith("![](")


def test_a_figure_without_alt_text_is_flagged_and_cannot_be_approved_until_it_has_some(client, editor, moderator):
    client.force_login(editor)
    figure, revision, _code = upload_figure(client)
    client.force_login(moderator)
    page = review_page(client, revision)
    # The upload waits for approval: staff see it through the staff view, never at its public address.
    staff_url = f"/admin/pending-figures/{figure.image.name}"
    assert f'<img src="{staff_url}"' in page and f'<a href="{staff_url}">Full size</a>' in page
    assert client.get(staff_url).status_code == 200
    assert "40 × 30 pixels" in page
    assert "this figure cannot be approved until it has alt text" in page
    amend = f"/admin/articles/figure/{figure.pk}/change/?revision={revision.pk}"
    assert f'href="{amend}"' in page

    with pytest.raises(ValidationError, match="no alt text"):
        moderation.approve(revision=revision, moderator=moderator)
    response = client.post(f"/admin/articles/revision/{revision.pk}/approve/", follow=True)
    assert "no alt text" in response.content.decode()
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING and len(stored_files()) == 1, "the upload is kept"

    # The alt text is written into the proposal, which can then be approved.
    data = admin_form_data(client.get(amend), alt_text="A cargo plane on the runway at Gao", edit_summary="Alt")
    data.pop("image", None)
    assert client.post(amend, data).status_code == 302
    revision.refresh_from_db()
    assert revision.data["alt_text"] == "A cargo plane on the runway at Gao"
    assert "A cargo plane on the runway at Gao" in review_page(client, revision)
    moderation.approve(revision=revision, moderator=moderator)
    figure.refresh_from_db()
    assert figure.is_live and figure.alt_text == "A cargo plane on the runway at Gao"


def test_the_section_and_the_figure_proposed_together_are_shown_together(client, editor, moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(moderator, article, title="Arrival", anchor="arrival", body="The mission arrived.")
    other = factories.section(moderator, article, title="Later", anchor="later", body="Later.", position=2)
    client.force_login(editor)
    figure, figure_revision, code = upload_figure(client)
    unrelated, unrelated_revision, _ = upload_figure(client, "other.png")
    section_revision = moderation.propose(
        obj=section, author=editor, summary="Add a photo", data={**section.snapshot(), "body": f"Arrived.\n\n{code}"}
    )
    moderation.propose(obj=other, author=editor, summary="Reword", data={**other.snapshot(), "body": "Then."})
    client.force_login(moderator)

    page = review_page(client, section_revision)
    assert "Proposed together with this" in page
    assert f'<img src="{figure.image.url}"' in page and "40 × 30 pixels" in page
    assert f"/admin/articles/revision/{figure_revision.pk}/change/" in page
    assert unrelated.image.url not in page

    page = review_page(client, figure_revision)
    assert "Proposed together with this" in page
    assert f"/admin/articles/revision/{section_revision.pk}/change/" in page and "Add a photo" in page
    assert "Reword" not in page
    assert unrelated_revision.pk
