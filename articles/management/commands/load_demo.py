"""Load the demo content and two staff accounts.

    python manage.py load_demo

Everything is published through the moderation services by the ``moderator`` account, in the
order the services require (figure, sources, topics, article, then sections with parents
before their subsections), inside one transaction: if any step fails, nothing is recorded.

Running it again changes nothing. The demo counts as loaded when its article's slug exists;
existing ``editor`` and ``moderator`` accounts are used as they are, and their passwords are
never reset or shown again.
"""

from __future__ import annotations

import secrets
from io import BytesIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.content.images import normalise_image
from articles.models import (
    Article,
    Figure,
    PublicationState,
    RevisionAction,
    Section,
    Source,
    TimelineEvent,
    Topic,
)
from articles.ops import demo, demo_figure
from articles.publishing import renditions
from articles.revisions import moderation

SITE = "http://127.0.0.1:8000"
SUMMARY = "Demo content"
# username -> group; both accounts may use the admin.
ACCOUNTS = {"editor": "Editor", "moderator": "Moderator"}


class Command(BaseCommand):
    help = "Load the demo article, its sections, topics, sources and figure, plus editor/moderator accounts."

    def handle(self, *args, **options):
        if Article.objects.filter(slug=demo.ARTICLE["slug"]).exists():
            self.stdout.write("Demo already loaded; nothing changed.")
            return
        try:
            with transaction.atomic():
                passwords = self.create_accounts()
                moderator = get_user_model().objects.get(username="moderator")
                if not moderation.can_moderate(moderator):
                    raise CommandError("The existing user “moderator” cannot publish: add it to the Moderator group.")
                article = load_demo_content(moderator=moderator)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(f"The demo could not be loaded; nothing was saved. {error}") from error

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: “{article.title}” with {article.sections.count()} sections, "
                f"{len(demo.TOPICS)} topics, {len(demo.SOURCES)} sources and 1 figure."
            )
        )
        if passwords:
            self.stdout.write("New accounts (the passwords are shown only this once):")
            for username, password in passwords.items():
                self.stdout.write(f"  {username} ({ACCOUNTS[username]}) password: {password}")
        for username in ACCOUNTS.keys() - passwords.keys():
            self.stdout.write(f"  {username}: existing account kept unchanged")
        self.stdout.write(f"Admin:   {SITE}/admin/")
        self.stdout.write(f"Article: {SITE}{article.get_absolute_url()}")

    def create_accounts(self) -> dict[str, str]:
        """Create the missing demo accounts; return the new ones' passwords."""
        User = get_user_model()
        passwords = {}
        for username, group_name in ACCOUNTS.items():
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name=group_name))
            passwords[username] = password
        return passwords


def _publish(obj, *, moderator, m2m: dict | None = None):
    """Save ``obj`` as a draft and publish it at once, as a moderator's own edit."""
    obj.state = PublicationState.DRAFT
    obj.full_clean(exclude=["live_revision"])
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    moderation.publish_directly(obj=obj, moderator=moderator, summary=SUMMARY, action=RevisionAction.CREATE)
    obj.refresh_from_db()
    return obj


def _refuse_clashes() -> None:
    """Stop before writing anything if demo keys are taken by other content."""
    clashes = [
        f"source “{key}”"
        for key in Source.objects.filter(key__in=[s["key"] for s in demo.SOURCES]).values_list("key", flat=True)
    ]
    clashes += [
        f"topic “{slug}”"
        for slug in Topic.objects.filter(slug__in=[t["slug"] for t in demo.TOPICS]).values_list("slug", flat=True)
    ]
    if clashes:
        raise CommandError(
            "The demo needs these citation keys and slugs, but they are already used: "
            + ", ".join(clashes)
            + ". Load the demo into an empty database."
        )


@transaction.atomic
def load_demo_content(*, moderator) -> Article:
    """Publish the demo article and everything it shows; return the article."""
    _refuse_clashes()

    timeline = normalise_image(BytesIO(demo_figure.draw_timeline()))
    figure = Figure(**{k: v for k, v in demo_figure.FIGURE.items() if k != "stem"})
    upload = timeline.as_content_file(demo_figure.FIGURE["stem"])
    figure.image.save(upload.name, upload, save=False)
    try:
        return _publish_content(figure, moderator=moderator)
    except BaseException:
        # The rollback undoes the rows, not the file already written to storage.
        figure.image.storage.delete(figure.image.name)
        renditions.delete_all(figure)  # made when the figure was published
        raise


def _publish_content(figure: Figure, *, moderator) -> Article:
    figure = _publish(figure, moderator=moderator)
    for fields in demo.SOURCES:
        _publish(Source(**fields), moderator=moderator)
    topics = {fields["slug"]: _publish(Topic(**fields), moderator=moderator) for fields in demo.TOPICS}
    # --- Timeline events (articles.publishing.timeline): before the article, so none of them re-renders it ---
    for fields in demo.TIMELINE_EVENTS:
        event = TimelineEvent(**{k: v for k, v in fields.items() if k != "topics"})
        _publish(event, moderator=moderator, m2m={"topics": [topics[slug].pk for slug in fields["topics"]]})

    article = _publish(Article(**demo.ARTICLE, lead_figure=figure), moderator=moderator)

    # Main sections first: a subsection's parent must exist before it.
    ordered = sorted(enumerate(demo.SECTIONS, start=1), key=lambda item: item[1].parent is not None)
    sections: dict[str, Section] = {}
    for position, spec in ordered:
        section = Section(
            article=article,
            parent=sections[spec.parent] if spec.parent else None,
            title=spec.title,
            anchor=spec.anchor,
            position=position * 10,
            body=spec.body,
        )
        sections[spec.anchor] = _publish(
            section, moderator=moderator, m2m={"topics": [topics[slug].pk for slug in spec.topics]}
        )
    article.refresh_from_db()
    return article
