"""Load the demo content and three accounts.

    python manage.py load_demo [--host 127.0.0.1] [--port 8000] [--reset-passwords]

Everything is published through the moderation services by the ``moderator`` account, in the
order the services require (figure, sources, topics, timeline, then the article's sections),
inside one transaction: if any step fails, nothing is recorded. The article's public history
reads as it was written: version 1 holds the introduction and the first sections, and each
later section is a version with its own edit summary.

The accounts: ``editor`` (group Editor), ``moderator`` (group Moderator) and ``admin`` (a
superuser, whom ``import_article`` records imports for by default), each with an
``@example.org`` address so that notifications show in the console e-mail backend. Their
passwords are random and shown once, when they are created; ``--reset-passwords`` gives the
demo accounts new ones and shows them.

Running it again changes nothing. The demo counts as loaded when its article's slug exists;
existing accounts are used as they are. ``--host`` and ``--port`` (``make run`` passes its own)
make the links it prints point at the server actually started.
"""

from __future__ import annotations

import secrets
from io import BytesIO

from django.conf import settings
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

# username -> (group, or None for a superuser; how the account is described)
ACCOUNTS = {
    "editor": ("Editor", "Editor"),
    "moderator": ("Moderator", "Moderator"),
    "admin": (None, "administrator"),
}
EMAIL_DOMAIN = "example.org"


class Command(BaseCommand):
    help = "Load the demo article, its sections, topics, sources and figure, plus editor, moderator and admin accounts."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="The host the site is served on, for the links printed.")
        parser.add_argument("--port", type=int, help="The port the site is served on, for the links printed.")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo accounts (editor, moderator, admin) new random passwords and show them.",
        )

    def handle(self, *args, host, port, reset_passwords, **options):
        site = self.site_url(host, port)
        passwords = {}
        if Article.objects.filter(slug=demo.ARTICLE["slug"]).exists():
            self.stdout.write("Demo already loaded; nothing changed.")
            article = Article.objects.get(slug=demo.ARTICLE["slug"])
        else:
            try:
                with transaction.atomic():
                    passwords = self.create_accounts()
                    moderator = get_user_model().objects.get(username="moderator")
                    if not moderation.can_moderate(moderator):
                        raise CommandError(
                            "The existing user “moderator” cannot publish: add it to the Moderator group."
                        )
                    article = load_demo_content(moderator=moderator)
            except (ValidationError, PermissionDenied) as error:
                raise CommandError(f"The demo could not be loaded; nothing was saved. {error}") from error
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded: “{article.title}” with {article.sections.count()} sections, "
                    f"{len(demo.TOPICS)} topics, {len(demo.SOURCES)} sources and 1 figure."
                )
            )
        if reset_passwords:
            passwords |= self.reset_passwords(exclude=passwords)
        if passwords:
            self.stdout.write("Demo accounts (the passwords are shown only this once):")
            for username, password in passwords.items():
                self.stdout.write(f"  {username} ({ACCOUNTS[username][1]}) password: {password}")
        self.stdout.write(f"Admin:   {site}/admin/")
        self.stdout.write(f"Article: {site}{article.get_absolute_url()}")

    @staticmethod
    def site_url(host, port) -> str:
        """Where the site is served: ``--host``/``--port`` when given, else SITE_URL."""
        if host is None and port is None:
            return settings.SITE_URL.rstrip("/")
        if host in (None, "", "0.0.0.0", "::"):
            host = "127.0.0.1"  # served on every interface: this one works on the same machine
        return f"http://{host}:{port or 8000}"

    def create_accounts(self) -> dict[str, str]:
        """Create the missing demo accounts; return the new ones' passwords."""
        User = get_user_model()
        passwords = {}
        for username, (group_name, _) in ACCOUNTS.items():
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"  {username}: existing account kept unchanged")
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=username,
                email=f"{username}@{EMAIL_DOMAIN}",
                password=password,
                is_staff=True,
                is_superuser=group_name is None,
            )
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            passwords[username] = password
        return passwords

    def reset_passwords(self, *, exclude) -> dict[str, str]:
        """New random passwords for the demo accounts that exist (and were not just created)."""
        passwords = {}
        for user in get_user_model().objects.filter(username__in=ACCOUNTS.keys() - set(exclude)).order_by("pk"):
            passwords[user.username] = secrets.token_urlsafe(12)
            user.set_password(passwords[user.username])
            user.save(update_fields=["password"])
        return passwords


def _publish(obj, *, moderator, summary: str, m2m: dict | None = None):
    """Save ``obj`` as a draft and publish it at once, as a moderator's own edit."""
    obj.state = PublicationState.DRAFT
    obj.full_clean(exclude=["live_revision"])
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    moderation.publish_directly(obj=obj, moderator=moderator, summary=summary, action=RevisionAction.CREATE)
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
    figure = _publish(figure, moderator=moderator, summary="Add the timeline figure")
    for fields in demo.SOURCES:
        _publish(Source(**fields), moderator=moderator, summary=f"Add the source “{fields['title']}”")
    topics = {
        fields["slug"]: _publish(Topic(**fields), moderator=moderator, summary=f"Add the topic {fields['name']}")
        for fields in demo.TOPICS
    }
    # --- Timeline events (articles.publishing.timeline): before the article, so none of them re-renders it ---
    for fields in demo.TIMELINE_EVENTS:
        event = TimelineEvent(**{k: v for k, v in fields.items() if k != "topics"})
        _publish(
            event,
            moderator=moderator,
            summary=f"Add the event “{fields['title']}”",
            m2m={"topics": [topics[slug].pk for slug in fields["topics"]]},
        )

    # The sections of version 1 are published while the article is still a draft, which records no
    # version; publishing the article then records version 1 with them. Each later section records
    # a version of its own. Sections come in reading order, a subsection after its parent.
    article = Article(**demo.ARTICLE, lead_figure=figure, state=PublicationState.DRAFT)
    article.full_clean(exclude=["live_revision"])
    article.save()
    sections: dict[str, Section] = {}
    first = [spec for spec in demo.SECTIONS if spec.first_version]
    later = [spec for spec in demo.SECTIONS if not spec.first_version]
    for spec in first:
        sections[spec.anchor] = _publish_section(article, spec, sections, topics, moderator=moderator)
    article = _publish(article, moderator=moderator, summary=demo.ARTICLE_SUMMARY)
    for spec in later:
        sections[spec.anchor] = _publish_section(article, spec, sections, topics, moderator=moderator)
    article.refresh_from_db()
    return article


def _publish_section(article, spec: demo.DemoSection, sections: dict, topics: dict, *, moderator) -> Section:
    section = Section(
        article=article,
        parent=sections[spec.parent] if spec.parent else None,
        title=spec.title,
        anchor=spec.anchor,
        position=(demo.SECTIONS.index(spec) + 1) * 10,
        body=spec.body,
    )
    return _publish(
        section, moderator=moderator, summary=spec.summary, m2m={"topics": [topics[slug].pk for slug in spec.topics]}
    )
