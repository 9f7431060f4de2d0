"""Objects for tests, made through the same services editors use."""

import itertools

from django.contrib.auth.models import Group, User

from articles.models import Article, Figure, PublicationState, Section, Source, TimelineEvent, Topic
from articles.revisions import moderation

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def ensure_groups():
    """Transactional tests flush the tables the data migration filled; put the groups back."""
    if Group.objects.filter(name__in=["Editor", "Moderator"]).count() != 2:
        from importlib import import_module

        from django.apps import apps

        import_module("articles.migrations.0002_editorial_groups").create_groups(apps, None)
        # Later data migrations that give the groups more permissions.
        import_module("articles.migrations.0008_timeline_event_permissions").grant(apps, None)


def make_user(username, *, group=None, superuser=False, email=None):
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        email=email if email is not None else f"{username}@example.org",
        is_staff=True,
        is_superuser=superuser,
    )
    if group:
        ensure_groups()
        user.groups.add(Group.objects.get(name=group))
    return user


def _publish(model, moderator, m2m=None, **fields):
    obj = model(state=PublicationState.DRAFT, **fields)
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Created in a test", action="create")
    obj.refresh_from_db()
    return obj


def finish_follow_ups():
    """Do the background follow-up of what was just published (renditions, re-rendered sections), as
    the worker would once the publish commits; test transactions never commit."""
    from articles.publishing import followups

    followups.run_unfinished()


def article(moderator, **fields):
    n = next(_counter)
    fields.setdefault("title", f"Article {n}")
    fields.setdefault("slug", f"article-{n}")
    fields.setdefault("dek", "An introduction.")
    return _publish(Article, moderator, **fields)


def section(moderator, article, topics=(), **fields):
    n = next(_counter)
    fields.setdefault("title", f"Section {n}")
    fields.setdefault("anchor", f"section-{n}")
    fields.setdefault("position", n)
    fields.setdefault("body", f"Body of section {n}.")
    return _publish(Section, moderator, m2m={"topics": [t.pk for t in topics]}, article=article, **fields)


def topic(moderator, **fields):
    n = next(_counter)
    fields.setdefault("name", f"Topic {n}")
    fields.setdefault("slug", f"topic-{n}")
    return _publish(Topic, moderator, **fields)


def source(moderator, **fields):
    n = next(_counter)
    fields.setdefault("key", f"source-{n}")
    fields.setdefault("title", f"Source {n}")
    fields.setdefault("kind", "report")
    fields.setdefault("publisher", "United Nations")
    fields.setdefault("date_year", 2013)
    return _publish(Source, moderator, **fields)


def figure(moderator, image_file, **fields):
    fields.setdefault("alt_text", "A test image")
    obj = Figure(state=PublicationState.DRAFT, **fields)
    obj.image.save(image_file.name, image_file, save=False)
    obj.save()
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Created in a test", action="create")
    finish_follow_ups()
    obj.refresh_from_db()
    return obj


# --- Timeline (tests/publishing/test_timeline.py) ------------------------------------------------------


def timeline_event(moderator, topics=(), **fields):
    n = next(_counter)
    fields.setdefault("title", f"Event {n}")
    fields.setdefault("date_year", 2013)
    return _publish(TimelineEvent, moderator, m2m={"topics": [t.pk for t in topics]}, **fields)


def article_with_sections(moderator, count, topic, source):
    """A published article with ``count`` published sections, every fifth one a main section and the
    rest its subsections, each tagged and citing ``source``. Built in bulk, then rendered once."""
    from articles.publishing import fragments, mentions, publish

    article_obj = article(moderator, title=f"Article with {count} sections", slug=f"sections-{count}")
    sections = Section.objects.bulk_create(
        Section(
            article=article_obj,
            title=f"Section {n}",
            anchor=f"s-{n}",
            position=n,
            state=PublicationState.LIVE,
            body=f"Paragraph {n} [@{source.key}, p. {n}].",
        )
        for n in range(count)
    )
    for n, section_obj in enumerate(sections):
        if n % 5:
            section_obj.parent = sections[n - n % 5]
    Section.objects.bulk_update(sections, ["parent"])
    Section.topics.through.objects.bulk_create(
        Section.topics.through(section_id=s.pk, topic_id=topic.pk) for s in sections
    )
    for section_obj in Section.objects.filter(article=article_obj):
        fragments.render_section(section_obj)
        fragments.store_citations(section_obj)
        section_obj.save(update_fields=["body_html", "notes"])
    mentions.refresh([article_obj.pk])
    publish.record_version(article_obj)
    return article_obj


def mandate_site(moderator) -> dict:
    """A topic, a source, and an article with one section on the topic citing the source."""
    topic_obj = topic(moderator, name="Peacekeeping", slug="peacekeeping")
    source_obj = source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    article_obj = article(moderator, title="MINUSMA", slug="minusma")
    section_obj = section(
        moderator,
        article_obj,
        topics=[topic_obj],
        title="Mandate",
        anchor="mandate",
        body="The Council set up the mission in April 2013 [@unsc-res-2100].",
    )
    return {"topic": topic_obj, "source": source_obj, "article": article_obj, "section": section_obj}


# --- Review steps (tests/revisions/test_review_steps.py, tests/admin/test_review_steps_admin.py) -----


def two_step_workflow():
    """Sections fact-checked by the "Fact-checkers" group, then copy-edited and published by moderators."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from articles.models import Workflow

    workflow = Workflow.objects.create(name="Fact-checked")
    fact_check = workflow.steps.create(
        position=1, name="Fact-check", group=Group.objects.get_or_create(name="Fact-checkers")[0]
    )
    publish = workflow.steps.create(position=2, name="Copy-edit and publish", group=Group.objects.get(name="Moderator"))
    workflow.assignments.create(content_type=ContentType.objects.get_for_model(Section))
    return fact_check, publish
