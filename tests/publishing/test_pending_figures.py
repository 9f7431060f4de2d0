"""Uploaded images stay private until their figure is approved; text showing one waits for it.

Every upload is written to the private storage (articles.content.figure_files): its public address
answers 404 and only staff who may view figures see it, through their own view. Approval copies it
to the public media once committed. A section (or any text) showing a pending figure is refused,
naming the figure, unless the figure is approved with it.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles.admin import uploads
from articles.content import figure_files
from articles.models import Figure, ModerationEvent, PublicationState, Revision, RevisionStatus, Section
from articles.revisions import moderation
from tests import factories
from tests.content.test_hostile_uploads import media_served_from_this_tests_root  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_served_from_this_tests_root")]


def png(colour=(200, 40, 40), name="map.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def staff_url(figure: Figure) -> str:
    return reverse("pending_figure_image", args=[figure.image.name])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def pending_uploads(client, editor):
    """One image dropped into the Markdown editor, one added through the figure form: both pending."""
    client.force_login(editor)
    response = client.post(reverse("markdownx_upload"), {"image": png(name="dropped.png")})
    assert response.status_code == 200, response.content
    response = client.post(
        reverse("admin:articles_figure_add"),
        {
            "image": png((20, 20, 200), name="chosen.png"),
            "alt_text": "A chosen map",
            "caption": "Chosen",
            "credit": "",
            "licence": "",
            "edit_summary": "Add a map",
        },
    )
    assert response.status_code == 302
    client.logout()
    figures = list(Figure.objects.order_by("pk"))
    assert len(figures) == 2 and all(f.state == PublicationState.DRAFT for f in figures)
    return figures


def test_every_pending_upload_is_404_for_anyone_but_staff(client, pending_uploads, moderator):
    bystander = factories.make_user("bystander")  # staff, but may not view figures
    for figure in pending_uploads:
        assert figure.image.url.startswith(settings.MEDIA_URL + "figures/")
        for user in (None, bystander):
            client.logout()
            if user:
                client.force_login(user)
            assert client.get(figure.image.url).status_code == 404, figure.image.url
            assert client.get(staff_url(figure)).status_code == 404
        client.force_login(moderator)
        assert client.get(figure.image.url).status_code == 404  # not public even for staff
        response = client.get(staff_url(figure))
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert "no-store" in response["Cache-Control"]
        with figure.image.open("rb") as stored:
            assert body(response) == stored.read()
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []  # nothing public


def test_staff_view_refuses_names_outside_the_uploads(client, moderator, pending_uploads):
    client.force_login(moderator)
    for name in ("../settings.py", "figures/../../secret.png", "renditions/1/480.webp", "figures/missing.png"):
        assert client.get(f"/admin/pending-figures/{name}").status_code == 404, name


def test_approval_makes_the_upload_public(client, moderator, pending_uploads, django_capture_on_commit_callbacks):
    figure = pending_uploads[1]  # the one with alt text: a figure without is never approved
    revision = Revision.objects.for_object(figure).get()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve(revision=revision, moderator=moderator)
    response = client.get(figure.image.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert not figure_files.private_storage().exists(figure.image.name)  # moved, not copied
    client.force_login(moderator)
    assert client.get(staff_url(figure)).url == figure.image.url
    # The other upload is still waiting, and still private.
    client.logout()
    assert client.get(pending_uploads[0].image.url).status_code == 404


def test_an_approval_that_rolls_back_publishes_no_file(
    moderator, editor, client, pending_uploads, django_capture_on_commit_callbacks
):
    """Approved in a batch with a stale proposal, which cannot be published: nothing is, the file included."""
    figure = pending_uploads[1]
    article = factories.article(moderator)
    section = factories.section(moderator, article)
    stale = moderation.propose(
        obj=section,
        author=editor,
        summary="Add the map",
        data={**section.snapshot(), "body": f"![Map]({figure.image.url})"},
    )
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Meanwhile", data={**section.snapshot(), "title": "New"}
    )
    figure_revision = Revision.objects.for_object(figure).get()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="changed since"):
        moderation.approve_many(revisions=[figure_revision, stale], moderator=moderator, merge=False)
    assert Figure.objects.get(pk=figure.pk).state == PublicationState.DRAFT
    assert client.get(figure.image.url).status_code == 404


@pytest.fixture
def section_showing_pending_figure(moderator, editor, pending_uploads):
    article = factories.article(moderator, title="Gao", slug="gao")
    section = factories.section(moderator, article, body="Before the map.")
    figure = pending_uploads[1]
    revision = moderation.propose(
        obj=section,
        author=editor,
        summary="Add the map",
        data={**section.snapshot(), "body": f"The region:\n\n![The region]({figure.image.url})"},
    )
    return section, revision, figure


def test_approving_a_section_that_shows_a_pending_figure_is_refused_naming_it(
    client, moderator, section_showing_pending_figure
):
    section, revision, figure = section_showing_pending_figure
    events = ModerationEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        moderation.approve(revision=revision, moderator=moderator)
    message = " ".join(refused.value.messages)
    assert "“Chosen”" in message and figure.image.name.rsplit("/", 1)[-1] in message and "not approved" in message
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PENDING
    assert Section.objects.get(pk=section.pk).body == "Before the map."
    assert ModerationEvent.objects.count() == events
    page = client.get(section.article.get_absolute_url()).content.decode()
    assert figure.image.url not in page
    assert client.get(figure.image.url).status_code == 404


def test_the_review_page_and_bulk_approval_refuse_alike(client, moderator, section_showing_pending_figure):
    section, revision, figure = section_showing_pending_figure
    client.force_login(moderator)
    response = client.post(reverse("admin:articles_revision_approve", args=[revision.pk]), follow=True)
    assert "The figure “Chosen”" in response.content.decode()
    response = client.post(
        reverse("admin:articles_revision_changelist"),
        {"action": "approve_selected", "_selected_action": [revision.pk]},
        follow=True,
    )
    assert "The figure “Chosen”" in response.content.decode()
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PENDING
    assert Section.objects.get(pk=section.pk).body == "Before the map."


def test_a_section_approved_with_its_figure_shows_it(
    client, moderator, section_showing_pending_figure, django_capture_on_commit_callbacks
):
    section, revision, figure = section_showing_pending_figure
    figure_revision = Revision.objects.for_object(figure).get()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_many(revisions=[revision, figure_revision], moderator=moderator)
    page = client.get(section.article.get_absolute_url()).content.decode()
    assert figure.image.url in page
    assert client.get(figure.image.url).status_code == 200


def test_the_editor_preview_shows_staff_the_pending_image(client, editor, pending_uploads):
    figure = pending_uploads[0]
    client.force_login(editor)
    response = client.post(reverse("markdownx_markdownify"), {"content": f"![Map]({figure.image.url})"})
    html = response.content.decode()
    assert f'src="{staff_url(figure)}"' in html
    assert client.get(staff_url(figure)).status_code == 200


def test_the_review_preview_shows_staff_the_pending_image(client, moderator, section_showing_pending_figure):
    section, revision, figure = section_showing_pending_figure
    client.force_login(moderator)
    html = client.get(reverse("articles:article_preview", args=[section.article.slug, revision.pk])).content.decode()
    assert f'src="{staff_url(figure)}"' in html and f'src="{figure.image.url}"' not in html


def test_a_moderator_without_view_permission_on_figures_is_refused(client, moderator, pending_uploads):
    client.force_login(moderator)
    assert client.get(staff_url(pending_uploads[0])).status_code == 200
    moderator.groups.clear()
    moderator.user_permissions.set(Permission.objects.filter(codename__in=["view_section"]))
    client.force_login(moderator)
    assert client.get(staff_url(pending_uploads[0])).status_code == 404


def test_the_upload_service_writes_to_the_private_storage_only(editor):
    figure = uploads.figure_upload(upload=png(), author=editor)
    assert figure_files.private_storage().exists(figure.image.name)
    assert not figure_files.public_storage().exists(figure.image.name)
    assert figure_files.is_pending(figure.image.name)


def test_the_review_page_offers_to_approve_the_figure_with_the_section(
    client, moderator, section_showing_pending_figure, django_capture_on_commit_callbacks
):
    section, revision, figure = section_showing_pending_figure
    figure_revision = Revision.objects.for_object(figure).get()
    client.force_login(moderator)
    review = client.get(reverse("admin:articles_revision_change", args=[revision.pk])).content.decode()
    assert 'name="with_figures"' in review and figure_revision.get_admin_url() in review
    assert f'src="{staff_url(figure)}"' in review
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:articles_revision_approve", args=[revision.pk]), {"with_figures": "on"})
    assert response.status_code == 302
    assert Revision.objects.get(pk=figure_revision.pk).status == RevisionStatus.PUBLISHED
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PUBLISHED
    client.logout()
    assert figure.image.url in client.get(section.article.get_absolute_url()).content.decode()
    assert client.get(figure.image.url).status_code == 200


def test_approving_with_figures_is_one_transaction(moderator, editor, section_showing_pending_figure):
    """The section cannot be published (it became stale): its figure is not published either."""
    section, revision, figure = section_showing_pending_figure
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Meanwhile", data={**section.snapshot(), "title": "Renamed"}
    )
    with pytest.raises(ValidationError, match="changed since"):
        moderation.approve(revision=revision, moderator=moderator, with_figures=True)
    assert Figure.objects.get(pk=figure.pk).state == PublicationState.DRAFT
    assert Revision.objects.for_object(figure).get().status == RevisionStatus.PENDING


def test_uploads_from_before_this_change_are_moved_out_of_the_public_media(client, editor, moderator):
    """Migration 0016 moves every upload no approved revision showed; its reverse moves them back."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("articles.migrations.0016_figure_uploads_private")
    pending = uploads.figure_upload(upload=png(name="pending.png"), author=editor)
    published = factories.figure(moderator, png((1, 2, 3), name="live.png"))
    rejected_figure = uploads.figure_upload(upload=png((9, 9, 9), name="refused.png"), author=editor)
    moderation.reject(revision=Revision.objects.for_object(rejected_figure).get(), moderator=moderator, reason="No")

    migration.move_them_back(apps, None)  # where uploads were kept before: all public
    assert client.get(pending.image.url).status_code == 200
    assert client.get(rejected_figure.image.url).status_code == 200
    migration.move_unapproved_uploads(apps, None)
    assert client.get(pending.image.url).status_code == 404
    assert client.get(rejected_figure.image.url).status_code == 404
    assert client.get(published.image.url).status_code == 200
    client.force_login(moderator)
    assert client.get(staff_url(pending)).status_code == 200


def test_the_figure_form_links_a_pending_image_to_the_staff_view(client, moderator, pending_uploads):
    figure = pending_uploads[1]
    client.force_login(moderator)
    form = client.get(reverse("admin:articles_figure_change", args=[figure.pk])).content.decode()
    assert f'href="{staff_url(figure)}"' in form and f'href="{figure.image.url}"' not in form
    assert f'src="{staff_url(figure)}"' in client.get(reverse("admin:articles_figure_changelist")).content.decode()


def test_publishing_a_section_edit_at_once_is_a_form_error_naming_the_figure(client, moderator, pending_uploads):
    from tests.admin.test_admin import section_post_data

    figure = pending_uploads[1]
    article = factories.article(moderator)
    section = factories.section(moderator, article, body="Before the map.")
    client.force_login(moderator)
    response = client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        section_post_data(section, body=f"![Map]({figure.image.url})", publish_now="on"),
    )
    assert response.status_code == 200
    assert "The figure “Chosen”" in " ".join(response.context["adminform"].form.errors["body"])
    assert Section.objects.get(pk=section.pk).body == "Before the map."


def test_scheduling_a_section_that_shows_a_pending_figure_is_refused(moderator, section_showing_pending_figure):
    import datetime

    from django.utils import timezone

    section, revision, figure = section_showing_pending_figure
    later = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="The figure “Chosen”"):
        moderation.approve(revision=revision, moderator=moderator, publish_at=later)
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PENDING
    # Approved with its figure: the figure now, the section at its time.
    moderation.approve(revision=revision, moderator=moderator, publish_at=later, with_figures=True)
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.SCHEDULED
    assert Figure.objects.get(pk=figure.pk).state == PublicationState.LIVE
