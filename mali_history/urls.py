from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from articles import uploads

urlpatterns = [
    # django-markdownx's own endpoints accept anonymous uploads and trust the browser's file type;
    # these staff-only views answer at the same URL names instead.
    path("markdownx/upload/", uploads.markdownx_upload, name="markdownx_upload"),
    path("markdownx/markdownify/", uploads.markdownx_preview, name="markdownx_markdownify"),
    path("admin/", admin.site.urls),
    path("", include("articles.urls")),
]

if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
