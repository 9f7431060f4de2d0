from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.generic import TemplateView

from articles.publishing.caching import PUBLISH, public_page
from articles.reading import citations, discovery, feeds, outside_review, sitemaps, views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    # The index of every article, a page at a time (articles.reading.pagination).
    path("contents/", views.article_index, name="article_index"),
    path("contents/by-date/", views.article_index, {"order": "date"}, name="article_index_by_date"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("articles/<slug:slug>/preview/<int:revision_id>/", views.article_preview, name="article_preview"),
    path("articles/<slug:slug>/revisions/<int:number>/", views.article_version, name="article_version"),
    # Citations out (articles.reading.citations): BibTeX, RIS and CSL-JSON beside the pages they cite.
    path("articles/<slug:slug>/cite.<citefmt:fmt>", citations.article_citation, name="article_citation"),
    path(
        "articles/<slug:slug>/bibliography.<citefmt:fmt>",
        citations.article_bibliography,
        name="article_bibliography_file",
    ),
    path(
        "articles/<slug:slug>/revisions/<int:number>/cite.<citefmt:fmt>",
        citations.article_version_citation,
        name="article_version_citation",
    ),
    path("sources/<slug:key>/cite.<citefmt:fmt>", citations.source_citation, name="source_citation"),
    path("articles/<slug:slug>/history/", views.article_history, name="article_history"),
    path("articles/<slug:slug>/history/compare/", views.article_compare, name="article_compare"),
    path("articles/<slug:slug>/sections/<slug:anchor>/suggest/", views.suggest_correction, name="suggest_correction"),
    # Proposals shown to a reviewer without an account, through a signed link (never cached).
    path("review/<str:token>/", outside_review.outside_review, name="outside_review"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<slug:key>/", views.source_detail, name="source_detail"),
    path("timeline/", views.timeline, name="timeline"),
    # Reading and discovery: search, feeds, sitemap (every publish can change the last three).
    path("search/", discovery.search_page, name="search"),
    path("feeds/articles.rss", public_page(feeds.ArticlesFeed(), tags=[PUBLISH]), name="feed_articles_rss"),
    path("feeds/articles.atom", public_page(feeds.ArticlesAtomFeed(), tags=[PUBLISH]), name="feed_articles_atom"),
    path("feeds/changes.rss", public_page(feeds.ChangesFeed(), tags=[PUBLISH]), name="feed_changes_rss"),
    path("feeds/changes.atom", public_page(feeds.ChangesAtomFeed(), tags=[PUBLISH]), name="feed_changes_atom"),
    # A sitemap index naming one sitemap per kind of page, each paged with ?p=N (Sitemap.limit).
    path(
        "sitemap.xml",
        public_page(sitemap_views.index, tags=[PUBLISH]),
        {"sitemaps": sitemaps.SITEMAPS, "sitemap_url_name": "articles:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<slug:section>.xml",
        public_page(sitemap_views.sitemap, paged="p", tags=[PUBLISH]),
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap_section",
    ),
    path(
        "robots.txt",
        public_page(TemplateView.as_view(template_name="robots.txt", content_type="text/plain; charset=utf-8")),
        name="robots_txt",
    ),
]
