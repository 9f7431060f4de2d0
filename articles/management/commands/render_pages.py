"""Store every live article's page again, in every language, for the current build.

    python manage.py render_pages

Publishing stores the pages it changes by itself. Run this after a deploy that changed
templates, translations, styles or code (with migrate and collectstatic): until then, pages
rendered by the previous build are not served, and readers get live renders, which are correct
but cost a full render each.
"""
from django.core.management.base import BaseCommand

from articles import rendered_pages


class Command(BaseCommand):
    help = "Render and store every live article's page for the running build."

    def handle(self, *args, **options):
        stored = rendered_pages.store_all()
        self.stdout.write(f"Stored {stored} article pages (build {rendered_pages.build_fingerprint()[:12]}).")
