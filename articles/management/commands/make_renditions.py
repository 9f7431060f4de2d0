"""Make the responsive renditions of published figures that lack them.

    python manage.py make_renditions [--force] [--figure ID ...]

Publishing a figure makes its renditions (articles.publishing.renditions); this fills them in for figures
published before renditions existed, or whose files were lost from storage. ``--force`` remakes
them all, e.g. after the widths or formats changed. What shows a figure is then refreshed as a
publish would refresh it: its cached pages dropped, and the sections showing it rendered again
by the background follow-up.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Figure
from articles.publishing import publish, renditions


class Command(BaseCommand):
    help = "Make the responsive renditions (WebP plus a JPEG/PNG fallback) of published figures."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Remake renditions that look current, too.")
        parser.add_argument(
            "--figure",
            type=int,
            action="append",
            dest="figure_ids",
            metavar="ID",
            help="Only this figure (may be given more than once).",
        )

    def handle(self, *args, force, figure_ids, **options):
        figures = Figure.objects.published().order_by("pk")
        if figure_ids:
            figures = figures.filter(pk__in=figure_ids)
        made = current = 0
        for pk in figures.values_list("pk", flat=True):
            with transaction.atomic():
                figure = Figure.objects.select_for_update().get(pk=pk)
                lost = renditions.is_current(figure) and not renditions.files_exist(figure)
                if renditions.refresh_figure(figure, force=force or lost):
                    publish.schedule_follow_up(figure, before={})
                    made += 1
                    self.stdout.write(f"  figure {figure.pk}: {len(figure.renditions)} renditions")
                else:
                    current += 1
        self.stdout.write(self.style.SUCCESS(f"Made renditions for {made} figures; {current} were already current."))
