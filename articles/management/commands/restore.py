"""Bring a backup written by `manage.py backup` back into an empty database.

    python manage.py migrate
    python manage.py restore /var/backups/mali-history-2026-11-25.tar.gz

It refuses a database that already holds content or accounts: a restore never merges. The archive
is checked, then loaded in one transaction, streamed; progress is shown on a terminal, or with
--verbosity 2.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.ops import backup, restore
from articles.ops.progress import Progress


class Command(BaseCommand):
    help = "Restore a backup archive (database content, users, media files) into an empty, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive written by `manage.py backup`")

    def handle(self, *args, path, **options):
        try:
            summary = restore.restore_backup(path, progress=Progress.for_command(self, options["verbosity"]))
        except backup.BackupError as error:
            raise CommandError(f"Nothing was restored. {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {summary.total_rows} rows in {len(summary.rows)} tables and {summary.media_files} media files "
                f"from {summary.path}. Run `manage.py bake_site` if pages are published statically."
            )
        )
