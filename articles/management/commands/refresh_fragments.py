"""Render every published object's stored fragments again, in batches.

    python manage.py refresh_fragments

Publishing renders an object's fragments (articles.publishing.fragments); run this once after upgrading
to a version that stores new fragments, or after a change to how Markdown or citations are
rendered. It streams: one batch of rows in memory, one short transaction per batch.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article, Section, Source, TimelineEvent, Topic
from articles.publishing import caching, fragments, mentions, timeline

BATCH = 200


def _batches(queryset):
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


class Command(BaseCommand):
    help = "Render the stored HTML of every published source, topic, article, section and timeline event again, and count each article's mentions of sources and topics."

    def handle(self, *args, **options):
        counts = {}
        steps = [
            (
                Source,
                lambda s: fragments.render_source(s),
                ["note_html", "note_with_locator_html", "bibliography_html"],
            ),
            (Topic, lambda t: fragments.render_topic(t), ["body_html"]),
            (Article, lambda a: fragments.render_dek(a), ["dek_html", "dek_notes"]),
            (Section, lambda s: fragments.render_section(s), ["body_html", "notes"]),
        ]
        for model, render, fields in steps:
            done = 0
            for batch in _batches(model.objects.exclude(state="draft")):
                with transaction.atomic():
                    for obj in batch:
                        render(obj)
                        if model is Section:
                            fragments.store_citations(obj)
                            obj.timelines.set(Topic.objects.filter(slug__in=timeline.directive_slugs(obj.body)))
                    model.objects.bulk_update(batch, fields)
                done += len(batch)
            counts[model._meta.verbose_name_plural] = done
        done = 0
        for batch in _batches(TimelineEvent.objects.exclude(state="draft")):
            with transaction.atomic():
                for event in batch:
                    timeline.refresh_event(event)
            done += len(batch)
        counts["timeline events"] = done
        counts["articles' mentions of sources and topics"] = mentions.rebuild()
        caching.invalidate_all()
        self.stdout.write(", ".join(f"{n} {name}" for name, n in counts.items()) + " rendered.")
