"""Finish the background follow-up of every publish that was left unfinished.

    python manage.py run_follow_ups [--older-than SECONDS]

The worker does this work as tasks; a worker that died mid-way, or a task lost before it was
queued, leaves a follow-up unfinished. Run this from cron (every few minutes, with
``--older-than 300`` so it leaves the worker's current work alone) or after restarting workers:
each follow-up carries on after its last recorded batch.
"""

import datetime

from django.core.management.base import BaseCommand

from articles.publishing import followups


class Command(BaseCommand):
    help = "Finish the follow-up work (baked pages, renditions) of publishes left unfinished."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Only follow-ups queued at least this long ago.",
        )

    def handle(self, *args, older_than, **options):
        done = followups.run_unfinished(older_than=datetime.timedelta(seconds=older_than))
        self.stdout.write(f"Finished {done} follow-ups.")
