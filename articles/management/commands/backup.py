"""Write the whole site (database content and media files) to one archive.

    python manage.py backup /var/backups/mali-history-2026-11-25.tar.gz

See articles/ops/backup.py for what the archive holds; `manage.py restore` brings it back. Rows and
media files are streamed, in constant memory; progress is shown on a terminal, or with --verbosity 2.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.ops import backup
from articles.ops.progress import Progress


class Command(BaseCommand):
    help = "Write the database content, users and media files to one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the archive, e.g. mali-history.tar.gz")

    def handle(self, *args, path, **options):
        try:
            summary = backup.write_backup(path, progress=Progress.for_command(self, options["verbosity"]))
        except OSError as error:
            raise CommandError(f"The backup could not be written: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {summary.path}: {summary.total_rows} rows in {len(summary.rows)} tables, "
                f"{summary.media_files} media files ({summary.media_bytes} bytes)."
            )
        )
