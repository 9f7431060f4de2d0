"""Rebuild the site search from published content: after a restore, an import, or a change to indexing.

Publishing keeps the search current on its own; this is for backfilling. It reads the HTML stored
at publish time and renders no Markdown. Safe to run at any time: it works in one transaction.
"""

from django.core.management.base import BaseCommand

from articles.publishing import search_index


class Command(BaseCommand):
    help = "Rebuild the site search index from every published article, section, topic and source."

    def handle(self, *args, **options):
        count = search_index.rebuild()
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} published entries."))
