from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from articles.admin import preview, uploads
from articles.api.site import api
from articles.ops import health

urlpatterns = [
    # django-markdownx's own endpoints accept anonymous uploads and trust the browser's file type;
    # these staff-only views answer at the same URL names instead.
    path("markdownx/upload/", uploads.markdownx_upload, name="markdownx_upload"),
    path("markdownx/markdownify/", preview.markdownx_preview, name="markdownx_markdownify"),
    # Uploaded figures waiting for approval are in a private storage; staff see them here.
    path("admin/pending-figures/<path:name>", uploads.pending_figure_image, name="pending_figure_image"),
    # The Markdown editor's own strings (static/articles/admin/markdown-editor.js), in the admin's language.
    path("admin/jsi18n/articles/", JavaScriptCatalog.as_view(packages=["articles"]), name="articles_jsi18n"),
    path("admin/", admin.site.urls),
    # Browsers and feed readers ask for /favicon.ico whatever the page links to.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("img/favicon.ico"))),
    # For staff who are signed in; Prometheus itself is answered by articles.ops.health.HealthMiddleware.
    path("metrics", health.metrics_view, name="metrics"),
    # The JSON API: public reads, and proposals sent with a token (articles/api/).
    path("api/v1/", api.urls),
]
# Public pages in every interface language: English at /articles/..., French at /fr/articles/...
# (articles.content.languages). The admin above takes the staff member's browser language instead.
urlpatterns += i18n_patterns(path("", include("articles.reading.urls")), prefix_default_language=False)

if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
