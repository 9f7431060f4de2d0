"""The permission matrix: every role against every admin, moderation and public URL, with exact outcomes."""

import io

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from articles.models import ApiToken, CorrectionSuggestion, PublicationState, Revision
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reader", "editor", "moderator", "superuser")
CONTENT = ("article", "section", "topic", "source", "figure", "timelineevent")

# Outcome per role, in ROLES order. "login" = redirect to the admin login page.
LOGIN = "login"
STAFF_READ = (LOGIN, LOGIN, 200, 200, 200)
MODERATE_POST = (LOGIN, LOGIN, 403, 302, 302)
PUBLIC = (200, 200, 200, 200, 200)

MATRIX = {}
for model in CONTENT:
    MATRIX.update(
        {
            (f"admin:articles_{model}_changelist", "GET"): STAFF_READ,
            (f"admin:articles_{model}_add", "GET"): STAFF_READ,
            (f"admin:articles_{model}_change", "GET"): STAFF_READ,
            (f"admin:articles_{model}_history", "GET"): STAFF_READ,
            (f"admin:articles_{model}_delete", "GET"): STAFF_READ,
            (f"admin:articles_{model}_compare", "GET"): STAFF_READ,
            (f"admin:articles_{model}_revert", "POST"): MODERATE_POST,
            # The presence heartbeat: staff who may change the object (articles/admin/presence.py).
            (f"admin:articles_{model}_presence", "POST"): STAFF_READ,
            (f"admin:articles_{model}_presence", "GET"): (LOGIN, LOGIN, 405, 405, 405),
        }
    )
MATRIX.update(
    {
        ("admin:autocomplete", "GET"): STAFF_READ,
        ("admin:articles_article_review", "GET"): STAFF_READ,
        ("admin:articles_article_review", "POST"): (LOGIN, LOGIN, 403, 302, 302),
        ("admin:articles_revision_changelist", "GET"): STAFF_READ,
        ("admin:articles_revision_change", "GET"): STAFF_READ,
        ("admin:articles_revision_approve", "POST"): MODERATE_POST,
        ("admin:articles_revision_reject", "POST"): MODERATE_POST,
        # Review steps: the default step is the moderators'; only the author resubmits (here another editor's).
        ("admin:articles_revision_request_changes", "POST"): MODERATE_POST,
        ("admin:articles_revision_resubmit", "POST"): (LOGIN, LOGIN, 403, 403, 302),
        # Workflows are set up by superusers (or staff given the workflow permissions).
        ("admin:articles_workflow_changelist", "GET"): (LOGIN, LOGIN, 403, 403, 200),
        ("admin:articles_workflow_add", "GET"): (LOGIN, LOGIN, 403, 403, 200),
        ("admin:articles_workflow_change", "GET"): (LOGIN, LOGIN, 403, 403, 200),
        ("admin:articles_workflow_history", "GET"): (LOGIN, LOGIN, 403, 403, 200),
        ("admin:articles_workflow_delete", "GET"): (LOGIN, LOGIN, 403, 403, 200),
        # Author or moderator; here the proposal is another editor's and has nothing to resolve.
        ("admin:articles_revision_resolve", "POST"): MODERATE_POST,
        # Only the author may withdraw; the pending proposal here is another editor's.
        ("admin:articles_revision_withdraw", "POST"): (LOGIN, LOGIN, 403, 403, 302),
        ("admin:articles_revision_add", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        # Comments (articles.admin.comments): anyone who may propose; resolving is for the thread's
        # writer (a moderator here), the proposal's author (another editor) and moderators.
        ("admin:articles_revision_comment", "POST"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:articles_revision_resolve_comment", "POST"): MODERATE_POST,
        # Share links for outside reviewers: moderators make and revoke them.
        ("admin:articles_revision_share", "POST"): MODERATE_POST,
        ("admin:articles_revision_share_article", "POST"): MODERATE_POST,
        ("admin:articles_revision_revoke_share", "POST"): MODERATE_POST,
        ("admin:articles_revision_delete", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        ("admin:articles_revision_history", "GET"): STAFF_READ,
        ("admin:articles_moderationevent_changelist", "GET"): STAFF_READ,
        ("admin:articles_moderationevent_change", "GET"): STAFF_READ,
        ("admin:articles_moderationevent_add", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        ("admin:articles_moderationevent_delete", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        ("admin:articles_moderationevent_history", "GET"): STAFF_READ,
        ("articles:home", "GET"): PUBLIC,
        ("articles:article_detail", "GET"): PUBLIC,
        ("articles:topic_list", "GET"): PUBLIC,
        ("articles:topic_detail", "GET"): PUBLIC,
        ("articles:source_list", "GET"): PUBLIC,
        ("articles:source_detail", "GET"): PUBLIC,
        ("articles:timeline", "GET"): PUBLIC,
        ("articles:article_preview", "GET"): (404, 404, 200, 200, 200),
        ("articles:suggest_correction", "GET"): PUBLIC,
        ("articles:suggest_correction", "POST"): PUBLIC,
        # The share page: whoever has the link reads and comments (then goes back to the page).
        ("articles:outside_review", "GET"): PUBLIC,
        ("articles:outside_review", "POST"): (302, 302, 302, 302, 302),
        ("admin:articles_correctionsuggestion_changelist", "GET"): STAFF_READ,
        ("admin:articles_correctionsuggestion_change", "GET"): STAFF_READ,
        ("admin:articles_correctionsuggestion_change", "POST"): MODERATE_POST,
        ("admin:articles_correctionsuggestion_add", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        ("admin:articles_correctionsuggestion_delete", "GET"): (LOGIN, LOGIN, 403, 403, 403),
        ("admin:articles_correctionsuggestion_history", "GET"): STAFF_READ,
        ("articles:article_version", "GET"): PUBLIC,
        ("articles:article_history", "GET"): PUBLIC,
        ("articles:article_compare", "GET"): PUBLIC,
        # Reading and discovery: the same for everyone.
        ("articles:search", "GET"): PUBLIC,
        ("articles:feed_articles_rss", "GET"): PUBLIC,
        ("articles:feed_articles_atom", "GET"): PUBLIC,
        ("articles:feed_changes_rss", "GET"): PUBLIC,
        ("articles:feed_changes_atom", "GET"): PUBLIC,
        ("articles:sitemap", "GET"): PUBLIC,
        ("articles:sitemap_section", "GET"): PUBLIC,
        ("articles:article_index", "GET"): PUBLIC,
        ("articles:article_index_by_date", "GET"): PUBLIC,
        ("articles:robots_txt", "GET"): PUBLIC,
        # Citations out: files beside the pages, public like them; citations in: staff who may add sources.
        ("articles:source_citation", "GET"): PUBLIC,
        ("articles:article_citation", "GET"): PUBLIC,
        ("articles:article_bibliography_file", "GET"): PUBLIC,
        ("articles:article_version_citation", "GET"): PUBLIC,
        ("admin:articles_source_import", "GET"): STAFF_READ,
        ("admin:articles_source_import", "POST"): (LOGIN, LOGIN, 200, 200, 200),
        ("markdownx_markdownify", "POST"): (403, 403, 200, 200, 200),
        ("markdownx_upload", "POST"): (403, 403, 200, 200, 200),
        # An upload waiting for approval: it does not exist for readers, not even as a login page.
        ("pending_figure_image", "GET"): (404, 404, 200, 200, 200),
        # Two-factor sign-in, for staff who have not set it up (tests/admin/test_two_factor.py has the rest).
        # The code step belongs to a sign-in in progress: with none, readers are sent to sign in, staff home.
        ("admin:two_factor_verify", "GET"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:two_factor_verify", "POST"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:two_factor", "GET"): STAFF_READ,
        ("admin:two_factor_setup", "GET"): STAFF_READ,
        ("admin:two_factor_setup", "POST"): (LOGIN, LOGIN, 400, 400, 400),  # a wrong code
        # Nothing to show or remove before it is set up: back to the overview.
        ("admin:two_factor_recovery_codes", "GET"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:two_factor_recovery_codes", "POST"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:two_factor_remove", "GET"): (LOGIN, LOGIN, 302, 302, 302),
        ("admin:two_factor_remove", "POST"): (LOGIN, LOGIN, 302, 302, 302),
    }
)
# --- The API (tests/api/): reads are public; writes take a token, never a session (so here, all 401) ---
API_READS = (
    "article_list",
    "article_detail",
    "article_sections",
    "section_detail",
    "source_list",
    "source_detail",
    "source_csl",
    "topic_list",
    "topic_detail",
    "timeline_event_list",
    "timeline_event_detail",
    "article_versions",
    "article_version_detail",
    "openapi-json",
    "openapi-view",
)
API_WRITES = ("propose_section", "propose_source", "propose_new_source", "propose_topic", "propose_timeline_event")
NO_TOKEN = (401, 401, 401, 401, 401)
MATRIX.update({(f"api:{name}", "GET"): PUBLIC for name in API_READS})
MATRIX.update({(f"api:{name}", "POST"): NO_TOKEN for name in API_WRITES})
MATRIX.update(
    {
        ("api:proposal_detail", "GET"): NO_TOKEN,
        # django-ninja's root: it only tells the API its own address.
        ("api:api-root", "GET"): (404, 404, 404, 404, 404),
        # API tokens: everyone who may propose has their own (here the editor's); a superuser sees all.
        ("admin:articles_apitoken_changelist", "GET"): STAFF_READ,
        ("admin:articles_apitoken_add", "GET"): STAFF_READ,
        ("admin:articles_apitoken_add", "POST"): (LOGIN, LOGIN, 200, 200, 200),
        ("admin:articles_apitoken_change", "GET"): (LOGIN, LOGIN, 200, 302, 200),
        ("admin:articles_apitoken_history", "GET"): (LOGIN, LOGIN, 200, 302, 200),
        ("admin:articles_apitoken_delete", "GET"): (LOGIN, LOGIN, 403, 403, 403),
    }
)


def _png(name="map.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


@pytest.fixture
def world(moderator, editor):
    """One published object of each kind, a pending proposal by an editor and a revertable revision."""
    source = factories.source(moderator, key="unsc-res-2100")
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(moderator, article, topics=[topic], body="Text [@unsc-res-2100].")
    from django.core.files.uploadedfile import SimpleUploadedFile

    figure = factories.figure(moderator, SimpleUploadedFile("map.png", _png().read(), "image/png"))
    author = factories.make_user("author", group="Editor")
    first = section.live_revision
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Second", data={**section.snapshot(), "body": "Second text."}
    )
    pending = moderation.propose(
        obj=section, author=author, summary="Pending", data={**section.snapshot(), "body": "Pending text."}
    )
    event = pending.events.first()
    timeline_event = factories.timeline_event(
        moderator,
        topics=[topic],
        title="MINUSMA created",
        date_year=2013,
        date_month=4,
        date_day=25,
        text="Created [@unsc-res-2100].",
    )
    objects = {
        "article": article,
        "section": section,
        "topic": topic,
        "source": source,
        "figure": figure,
        "timelineevent": timeline_event,
    }
    correction = CorrectionSuggestion.objects.create(section=section, problem="A date is wrong.")
    from articles.revisions import comments, sharing

    comment = comments.add_comment(revision=pending, user=moderator, body="Which source?")
    share_link = sharing.share(moderator=moderator, revisions=[pending])
    from articles.admin import uploads

    pending_figure = uploads.figure_upload(
        upload=SimpleUploadedFile("new.png", _png().read(), "image/png"), author=author
    )
    from django.contrib.auth.models import Group

    from articles.models import Workflow

    workflow = Workflow.objects.create(name="Fact-checked")
    workflow.steps.create(position=1, name="Fact-check", group=Group.objects.create(name="Fact-checkers"))
    token = ApiToken(user=editor, name="Script")
    token.issue()
    token.save()
    return {
        "workflow": workflow,
        "token": token,
        "comment": comment,
        "share_link": share_link,
        "pending_figure": pending_figure,
        "correction": correction,
        "objects": objects,
        "first": first,
        "pending": pending,
        "event": event,
        "article": article,
        "topic": topic,
        "source": source,
        "section": section,
    }


def _url(name, world):
    from django.urls import reverse

    if name.startswith("api:"):
        return _api_url(name, world)
    if name.startswith("admin:articles_apitoken_") and not name.endswith(("_changelist", "_add")):
        return reverse(name, args=[world["token"].pk])

    model = name.split("_")[1] if name.startswith("admin:articles_") else None
    if name == "admin:autocomplete":
        return reverse(name) + "?app_label=articles&model_name=section&field_name=topics"
    if (
        name.endswith(("_changelist", "_add"))
        or name
        in (
            "articles:home",
            "articles:article_index",
            "articles:article_index_by_date",
            "articles:topic_list",
            "articles:source_list",
            "articles:timeline",
            "articles:search",
            "articles:feed_articles_rss",
            "articles:feed_articles_atom",
            "articles:feed_changes_rss",
            "articles:feed_changes_atom",
            "articles:sitemap",
            "articles:robots_txt",
            "markdownx_markdownify",
            "markdownx_upload",
        )
        or name.startswith("admin:two_factor")
    ):
        return reverse(name)
    if name == "articles:sitemap_section":
        return reverse(name, kwargs={"section": "articles"})
    if name == "admin:articles_article_review":
        return reverse(name, args=[world["article"].pk])
    if name == "pending_figure_image":
        return reverse(name, args=[world["pending_figure"].image.name])
    if name == "admin:articles_source_import":
        return reverse(name)
    if name.startswith("admin:articles_workflow_"):
        return reverse(name) if name.endswith(("_changelist", "_add")) else reverse(name, args=[world["workflow"].pk])
    if name == "admin:articles_revision_resolve_comment":
        return reverse(name, args=[world["pending"].pk, world["comment"].pk])
    if name == "admin:articles_revision_share_article":
        return reverse(name, args=[world["article"].pk])
    if name == "admin:articles_revision_revoke_share":
        return reverse(name, args=[world["share_link"].pk])
    if name == "articles:outside_review":
        from articles.revisions import sharing

        return sharing.path_for(world["share_link"])
    if name.startswith("admin:articles_correctionsuggestion_") and not name.endswith(("_changelist", "_add")):
        return reverse(name, args=[world["correction"].pk])
    if name.startswith("admin:articles_revision_") or name.startswith("admin:articles_moderationevent_"):
        target = world["event"] if "moderationevent" in name else world["pending"]
        return reverse(name, args=[target.pk])
    if model in CONTENT:
        obj = world["objects"][model]
        if name.endswith("_revert"):
            revision = world["first"] if model == "section" else obj.live_revision
            return reverse(name, args=[obj.pk, revision.pk])
        url = reverse(name, args=[obj.pk])
        if name.endswith("_compare"):
            first = Revision.objects.for_object(obj).order_by("pk").first()
            url += f"?a={first.pk}&b={obj.live_revision_id}"
        return url
    kwargs = {
        "articles:article_detail": {"slug": "deployments"},
        "articles:topic_detail": {"slug": "minusma"},
        "articles:source_detail": {"key": "unsc-res-2100"},
        "articles:article_preview": {"slug": "deployments", "revision_id": world["pending"].pk},
        "articles:suggest_correction": {"slug": "deployments", "anchor": world["section"].anchor},
        "articles:article_version": {"slug": "deployments", "number": 1},
        "articles:article_history": {"slug": "deployments"},
        "articles:article_compare": {"slug": "deployments"},
        "articles:source_citation": {"key": "unsc-res-2100", "fmt": "bib"},
        "articles:article_citation": {"slug": "deployments", "fmt": "ris"},
        "articles:article_bibliography_file": {"slug": "deployments", "fmt": "json"},
        "articles:article_version_citation": {"slug": "deployments", "number": 1, "fmt": "bib"},
    }[name]
    return reverse(name, kwargs=kwargs) + ("?a=1&b=2" if name == "articles:article_compare" else "")


def _api_url(name, world):
    from django.urls import reverse

    kwargs = {
        "article_detail": {"slug": "deployments"},
        "article_sections": {"slug": "deployments"},
        "article_versions": {"slug": "deployments"},
        "article_version_detail": {"slug": "deployments", "number": 1},
        "section_detail": {"section_id": world["section"].pk},
        "source_detail": {"key": "unsc-res-2100"},
        "source_csl": {"key": "unsc-res-2100"},
        "topic_detail": {"slug": "minusma"},
        "timeline_event_detail": {"event_id": world["objects"]["timelineevent"].pk},
        "propose_section": {"section_id": world["section"].pk},
        "propose_source": {"key": "unsc-res-2100"},
        "propose_topic": {"slug": "minusma"},
        "propose_timeline_event": {"event_id": world["objects"]["timelineevent"].pk},
        "proposal_detail": {"proposal_id": world["pending"].pk},
    }.get(name.removeprefix("api:"))
    return reverse(name, kwargs=kwargs)


def _post_data(name, world):
    if name.startswith("api:"):
        return {"summary": "From a browser", "title": "New title", "key": "new-key"}
    if name == "admin:articles_apitoken_add":
        return {"name": "Zotero sync"}
    if name == "admin:articles_revision_reject":
        return {"reason": "Not sourced."}
    if name == "admin:articles_revision_request_changes":
        return {"message": "Cite a source for the date."}
    if name == "markdownx_markdownify":
        return {"content": "**bold**"}
    if name == "markdownx_upload":
        return {"image": _png()}
    if name == "admin:articles_article_review":
        return {"approve": "1"}
    if name == "articles:suggest_correction":
        return {"problem": "The year is wrong."}
    if name == "admin:articles_correctionsuggestion_change":
        return {"dismiss": "1"}
    if name in ("admin:two_factor_setup", "admin:two_factor_verify"):
        return {"code": "000000"}
    if name in ("admin:two_factor_recovery_codes", "admin:two_factor_remove"):
        return {"answer": "not the password"}
    if name == "admin:articles_revision_comment":
        return {"body": "A remark."}
    if name in ("admin:articles_revision_share", "admin:articles_revision_share_article"):
        return {"days": "7"}
    if name == "articles:outside_review":
        return {"name": "Awa", "email": "awa@example.net", "body": "Looks right.", "revision": world["pending"].pk}
    if name == "admin:articles_source_import":
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"file": SimpleUploadedFile("new.bib", b"@book{new, title={A new book}}", "application/x-bibtex")}
    return {}


@pytest.fixture
def login_as(client):
    def login(role):
        if role == "anonymous":
            return client
        if role == "reader":
            from django.contrib.auth.models import User

            client.force_login(User.objects.create_user("reader", password=factories.PASSWORD))
        elif role == "superuser":
            client.force_login(factories.make_user("root", superuser=True))
        else:
            from django.contrib.auth.models import User

            client.force_login(User.objects.get(username=role))
        return client

    return login


CELLS = [
    (name, method, role, expected[i]) for (name, method), expected in MATRIX.items() for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(
    "name,method,role,expected", CELLS, ids=[f"{role}-{method}-{name}" for name, method, role, _ in CELLS]
)
def test_permission_cell(name, method, role, expected, world, editor, login_as):
    client = login_as(role)
    url = _url(name, world)
    response = client.post(url, _post_data(name, world)) if method == "POST" else client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    else:
        assert response.status_code == expected, response.content[:500]


def test_failed_moderation_attempts_change_nothing(client, world, editor):
    client.force_login(editor)
    pending = world["pending"]
    client.post(f"/admin/articles/revision/{pending.pk}/approve/")
    client.post(f"/admin/articles/section/{world['section'].pk}/revert/{world['first'].pk}/")
    pending.refresh_from_db()
    world["section"].refresh_from_db()
    assert pending.status == "pending"
    assert world["section"].body == "Second text."
    assert world["section"].state == PublicationState.LIVE


def _named_urls():
    """Every named URL the site serves for its own app, the admin's included."""
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    return names


def test_every_url_of_the_site_has_a_row_in_the_matrix():
    ours = {
        n
        for n in _named_urls()
        if n.startswith(("admin:articles_", "admin:two_factor", "articles:", "api:", "markdownx_", "pending_figure"))
    }
    ours.add("admin:autocomplete")
    covered = {name for name, _ in MATRIX}
    assert len(ours) >= 50
    assert ours - covered == set(), "add these URLs to the permission matrix"
    assert covered - ours == set(), "these rows name URLs the site no longer has"


def test_registered_models_are_the_moderated_ones():
    registered = {m._meta.model_name for m in admin.site._registry if m._meta.app_label == "articles"}
    assert registered == set(CONTENT) | {"revision", "moderationevent", "correctionsuggestion", "workflow", "apitoken"}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/articles/revision/abc/change/",
        "/admin/articles/revision/%00/change/",
        "/admin/articles/revision/1.5/change/",
        "/admin/articles/section/abc/change/",
        "/admin/articles/section/1/change/?revision=abc",
        "/admin/articles/section/1/change/?revision=%00",
        "/admin/articles/article/abc/history/",
        "/admin/articles/article/abc/review/",
        "/admin/articles/article/abc/history/compare/?a=x&b=y",
        "/admin/articles/revision/abc/approve/",
        "/articles/x/preview/abc/",
    ],
)
def test_malformed_ids_answer_not_found_never_a_server_error(client, superuser, url):
    client.force_login(superuser)
    response = client.get(url)
    assert response.status_code in (302, 404)
    if response.status_code == 302:  # the admin's "doesn't exist" notice on the list
        assert "/admin/" in response["Location"]
