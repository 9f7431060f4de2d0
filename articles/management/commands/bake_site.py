"""Re-bake every public page into the "baked" storage, for nginx to serve.

    python manage.py bake_site [--no-prune]

Publishing keeps the baked pages up to date by itself; run this after a deploy that changed
templates or styles, to fill an empty directory, and once a day just after midnight (cron): the
article pages' "Cite this page" box shows the day the page was read. It also empties the page cache, which holds
pages rendered with the old templates. Files of pages that no longer exist are removed unless
``--no-prune`` is given.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.publishing import baking, caching


class Command(BaseCommand):
    help = "Write the anonymous HTML of every public page to the baked storage (DJANGO_STATIC_PUBLISH_ROOT)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-prune",
            action="store_false",
            dest="prune",
            help="Keep baked files of pages that no longer exist.",
        )

    def handle(self, *args, prune, **options):
        if not baking.enabled():
            raise CommandError(
                "Static publishing is off: set DJANGO_STATIC_PUBLISH_ROOT to a directory, or DJANGO_BAKED_STORAGE "
                "to a storage backend, first."
            )
        caching.invalidate_all()
        written, removed = baking.bake_site(prune=prune)
        self.stdout.write(f"Baked {written} pages; removed {removed} stale files.")
