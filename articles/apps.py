from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Mali History content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the feed and sitemap pages with the page cache's invalidation in every
        # process that publishes, including management commands that never load the URLconf.
        from . import discovery  # noqa: F401
        from . import timeline  # noqa: F401  (the timeline page and the pages its events appear on)
