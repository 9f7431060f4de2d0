"""One page of every type the site has, public and admin, on the demo content.

Used by the accessibility, HTML validity and French tests, so that each covers the same pages.
``demo_site()`` loads the demo through the moderation services, publishes a second version of the
article (for history, compare and permalinks) and leaves one proposal pending (for the review pages).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import Article, Revision, Section, Source, Topic
from articles.ops import demo
from articles.revisions import moderation
from tests import factories


@dataclass
class DemoSite:
    article: Article
    section: Section
    topic: Topic
    source: Source
    revision: Revision  # pending
    moderator: object
    editor: object

    def public_pages(self, prefix: str = "") -> dict[str, str]:
        """Page type -> path; ``prefix`` is a language prefix such as "/fr"."""
        slug = self.article.slug
        paths = {
            "home": "/",
            "article index": "/contents/",
            "article index by date": "/contents/by-date/",
            "article": f"/articles/{slug}/",
            "topic list": "/topics/",
            "topic": f"/topics/{self.topic.slug}/",
            "source list": "/sources/",
            "source": f"/sources/{self.source.key}/",
            "timeline": "/timeline/",
            "search results": "/search/?q=MINUSMA",
            "article history": f"/articles/{slug}/history/",
            "compare": f"/articles/{slug}/history/compare/?a=1&b=2",
            "permalink": f"/articles/{slug}/revisions/1/",
            "suggest a correction": f"/articles/{slug}/sections/{self.section.anchor}/suggest/",
            "404": "/no-such-page/",
        }
        return {name: prefix + path for name, path in paths.items()}

    def content_titles(self) -> list[str]:
        """Titles that pages show in their <title>, where no ``lang`` can mark them as content."""
        return [self.article.title, self.section.title, self.topic.name, self.source.title]

    def admin_pages(self) -> dict[str, str]:
        published = Revision.objects.for_object(self.section).published().order_by("pk")
        older, newer = published[0].pk, published.last().pk
        return {
            "admin index": "/admin/",
            "revision review": f"/admin/articles/revision/{self.revision.pk}/change/",
            "review queue": "/admin/articles/revision/",
            "object history": f"/admin/articles/section/{self.section.pk}/history/",
            "admin compare": f"/admin/articles/section/{self.section.pk}/history/compare/?a={older}&b={newer}",
            "article review": f"/admin/articles/article/{self.article.pk}/review/",
            "section change form": f"/admin/articles/section/{self.section.pk}/change/",
            "source list": "/admin/articles/source/",
            "citation import": "/admin/articles/source/import/",
        }


def demo_site() -> DemoSite:
    factories.ensure_groups()  # load_demo needs them; transactional tests flush them
    call_command("load_demo", stdout=io.StringIO())
    users = get_user_model().objects
    moderator, editor = users.get(username="moderator"), users.get(username="editor")
    article = Article.objects.get(slug=demo.ARTICLE["slug"])
    section = article.sections.published().filter(parent__isnull=True).order_by("position").first()
    # A second published version of the article: history, compare and permalinks have two.
    moderation.publish_directly(
        obj=section,
        moderator=moderator,
        summary="Add a closing sentence",
        data={**section.snapshot(), "body": section.body + "\n\nThe deployment continued."},
    )
    section.refresh_from_db()
    revision = moderation.propose(
        obj=section,
        author=editor,
        summary="Tighten the wording",
        data={**section.snapshot(), "body": section.body.replace("continued", "went on")},
    )
    topic = Topic.objects.published().get(slug="minusma")
    source = Source.objects.published().filter(citations__section__article=article).distinct().order_by("key").first()
    return DemoSite(
        article=article,
        section=section,
        topic=topic,
        source=source,
        revision=revision,
        moderator=moderator,
        editor=editor,
    )
