"""In Chromium: readers never see an image that waits for approval, even once a section showing it is proposed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.admin import uploads
from articles.models import Revision
from articles.revisions import moderation
from tests import factories
from tests.content.test_hostile_uploads import media_served_from_this_tests_root  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_served_from_this_tests_root"),
]


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (180, 60, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("gao-map.png", buffer.getvalue(), content_type="image/png")


def shown_images(page) -> list[dict]:
    return page.eval_on_selector_all(
        "main img", "imgs => imgs.map(i => ({src: i.getAttribute('src'), loaded: i.naturalWidth > 0}))"
    )


def test_the_public_article_never_shows_a_pending_image(browser, live_server):
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="Gao", slug="gao")
    section = factories.section(moderator, article, title="The region", anchor="region", body="Before the map.")
    figure = uploads.figure_upload(upload=png(), author=editor)
    # The editor writes the alt text an upload starts without (a figure without one is never approved).
    upload = Revision.objects.for_object(figure).get()
    moderation.amend(
        revision=upload, user=editor, data={**upload.data, "alt_text": "Map of the Gao region"}, summary=upload.summary
    )
    figure.alt_text = "Map of the Gao region"
    figure.save()
    proposal = moderation.propose(
        obj=section,
        author=editor,
        summary="Add the map",
        data={**section.snapshot(), "body": f"The region:\n\n![Map of the Gao region]({figure.image.url})"},
    )
    article_url = f"{live_server.url}/articles/gao/"
    image_url = live_server.url + figure.image.url

    reader = browser.new_page()
    assert reader.request.get(image_url).status == 404
    reader.goto(article_url)
    assert figure.image.url not in reader.content()

    # The moderator approves the section alone: refused, and told which figure it waits for.
    moderator_page = browser.new_page()
    moderator_page.goto(f"{live_server.url}/admin/articles/revision/{proposal.pk}/change/")
    moderator_page.fill("#id_username", "moderator")
    moderator_page.fill("#id_password", factories.PASSWORD)
    with moderator_page.expect_navigation():
        moderator_page.locator("input[type=submit]").click()
    # The review preview shows the moderator the image (through the staff view).
    assert moderator_page.locator(".pending-figures img").evaluate("i => i.complete && i.naturalWidth > 0")
    with moderator_page.expect_navigation():
        moderator_page.get_by_role("button", name="Approve and publish").click()
    assert "The figure “Map of the Gao region”" in moderator_page.locator(".messagelist").inner_text()

    reader.reload()
    assert "Before the map." in reader.content()
    assert all(figure.image.url not in (image["src"] or "") for image in shown_images(reader))
    assert reader.request.get(image_url).status == 404

    # Approved with its figure: readers see both, the image loaded from the public media.
    moderator_page.get_by_label("Approve the figures it shows with it").check()
    with moderator_page.expect_navigation():
        moderator_page.get_by_role("button", name="Approve and publish").click()
    assert "Approved and published" in moderator_page.locator(".messagelist").inner_text()
    assert Revision.objects.get(pk=proposal.pk).status == "published"
    reader.reload()
    # Images may load after the page's load event (lazy loading, a busy machine): wait for them.
    reader.wait_for_function(
        "src => [...document.querySelectorAll('main img')].some(i => i.getAttribute('src') === src && i.complete)",
        arg=figure.image.url,
    )
    images = [image for image in shown_images(reader) if image["src"] == figure.image.url]
    assert images and all(image["loaded"] for image in images)
    assert reader.request.get(image_url).status == 200
