"""RSS and Atom feeds: new and updated articles, and recent published changes with their summaries.

Both read only published content (the same ``published()`` querysets as the pages). An article's
item is identified by the permalink of its latest version, so an update reaches feed readers as a
new item rather than silently changing an old one.
"""

from django.contrib.contenttypes.models import ContentType
from django.contrib.syndication.views import Feed
from django.db.models import Max, Min, Q
from django.urls import reverse, reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from articles.models import Article, ArticleVersion, Revision, Section, Source, Topic

SITE_NAME = "Mali History"
ARTICLE_ITEMS = 30
CHANGE_ITEMS = 50


class SiteFeed(Feed):
    author_name = SITE_NAME
    link = reverse_lazy("articles:home")

    def get_object(self, request, *args, **kwargs):
        # The site's address, for the items' ids (Atom wants them absolute). Returned per request
        # and handed to items(): the feed object is shared by every request, so it keeps nothing.
        return request.build_absolute_uri("/").rstrip("/")


class ArticlesFeed(SiteFeed):
    title = f"{SITE_NAME}: new and updated articles"
    feed_url = reverse_lazy("articles:feed_articles_rss")
    description = "Articles of the cited history of Mali’s military deployments, as they are published and updated."

    def items(self, origin):
        articles = list(
            Article.objects.published()
            .annotate(first_published=Min("versions__created_at"), latest_version=Max("versions__number"))
            .order_by("-published_at", "-pk")[:ARTICLE_ITEMS]
        )
        for article in articles:
            if article.latest_version:
                permalink = reverse(
                    "articles:article_version", kwargs={"slug": article.slug, "number": article.latest_version}
                )
            else:  # Published before versions were recorded, and unchanged since.
                permalink = article.get_absolute_url()
            article.feed_guid = f"{origin}{permalink}"
        return articles

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article.dek_html  # Sanitised when it was rendered at publish time.

    def item_guid(self, article):
        return article.feed_guid

    item_guid_is_permalink = True

    def item_pubdate(self, article):
        return article.first_published or article.published_at or article.created_at

    def item_updateddate(self, article):
        return article.published_at or article.updated_at

    def item_author_name(self, article):
        return SITE_NAME


class ArticlesAtomFeed(ArticlesFeed):
    feed_type = Atom1Feed
    feed_url = reverse_lazy("articles:feed_articles_atom")
    subtitle = ArticlesFeed.description


class ChangesFeed(SiteFeed):
    """Published revisions of what readers can see now, newest first, with their edit summaries.

    A change that produced a version of an article links to that version's permalink; other
    changes link to the page they changed. Changes to pages that are no longer public (a deleted
    article, an unpublished topic) are left out: their links would lead nowhere.
    """

    title = f"{SITE_NAME}: recent changes"
    feed_url = reverse_lazy("articles:feed_changes_rss")
    description = "Every change published to the articles, topics and sources, with the editor's summary."

    def items(self, origin):
        types = ContentType.objects.get_for_models(Article, Section, Topic, Source)
        public = (
            Q(content_type__in=[types[Article], types[Section]], article__in=Article.objects.published())
            | Q(content_type=types[Topic], object_id__in=Topic.objects.published().values("pk"))
            | Q(content_type=types[Source], object_id__in=Source.objects.published().values("pk"))
        )
        revisions = list(
            Revision.objects.published()
            .filter(public)
            .select_related("content_type", "article")
            .order_by("-decided_at", "-pk")[:CHANGE_ITEMS]
        )
        versions = dict(ArticleVersion.objects.filter(revision__in=revisions).values_list("revision_id", "number"))
        topics = dict(
            Topic.objects.filter(
                pk__in=[r.object_id for r in revisions if r.content_type_id == types[Topic].pk]
            ).values_list("pk", "slug")
        )
        sources = dict(
            Source.objects.filter(
                pk__in=[r.object_id for r in revisions if r.content_type_id == types[Source].pk]
            ).values_list("pk", "key")
        )
        for revision in revisions:
            if revision.content_type_id == types[Topic].pk:
                url = reverse("articles:topic_detail", kwargs={"slug": topics[revision.object_id]})
            elif revision.content_type_id == types[Source].pk:
                url = reverse("articles:source_detail", kwargs={"key": sources[revision.object_id]})
            elif revision.pk in versions:
                url = reverse(
                    "articles:article_version", kwargs={"slug": revision.article.slug, "number": versions[revision.pk]}
                )
            else:
                url = revision.article.get_absolute_url()
            revision.feed_link = url
            revision.feed_guid = f"{origin}{url}#revision-{revision.pk}"
        return revisions

    def item_title(self, revision):
        title = f"{revision.action_phrase} “{revision.object_repr}”"
        if revision.article and revision.content_type.model_class() is Section:
            title += f" in “{revision.article.title}”"
        return title

    def item_description(self, revision):
        return revision.summary

    def item_link(self, revision):
        return revision.feed_link

    def item_guid(self, revision):
        return revision.feed_guid

    item_guid_is_permalink = False

    def item_author_name(self, revision):
        return revision.author_name or None

    def item_pubdate(self, revision):
        return revision.decided_at

    def item_updateddate(self, revision):
        return revision.decided_at


class ChangesAtomFeed(ChangesFeed):
    feed_type = Atom1Feed
    feed_url = reverse_lazy("articles:feed_changes_atom")
    subtitle = ChangesFeed.description
