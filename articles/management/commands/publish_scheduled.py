"""Publish approved revisions whose time has come. Run it from cron every minute; running it twice is harmless."""

from django.core.management.base import BaseCommand

from articles.revisions import moderation


class Command(BaseCommand):
    help = "Publish scheduled revisions that are due."

    def handle(self, *args, **options):
        results = moderation.publish_due()
        for revision, outcome in results:
            line = f"#{revision.pk} {revision.object_repr}: {outcome}"
            self.stdout.write(self.style.SUCCESS(line) if outcome == "published" else self.style.WARNING(line))
        self.stdout.write(
            f"{sum(1 for _, o in results if o == 'published')} published, "
            f"{sum(1 for _, o in results if o != 'published')} returned to the queue."
        )
