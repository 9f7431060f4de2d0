"""Revisions are append-only: refused by the services everywhere, and by the database on PostgreSQL
(the trigger of migration 0009), even for raw SQL."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction

from articles.models import ModerationEvent, Revision, RevisionStatus
from articles.revisions import moderation
from tests import factories
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def revisions(moderator, editor):
    article = factories.article(moderator, title="Kept", slug="kept")
    section = factories.section(moderator, article, body="Original.")
    published = section.live_revision
    pending = moderation.propose(
        obj=section, author=editor, summary="Pending", data={**section.snapshot(), "body": "Proposed."}
    )
    rejected = moderation.propose(
        obj=section, author=editor, summary="Rejected", data={**section.snapshot(), "body": "No."}
    )
    moderation.reject(revision=rejected, moderator=moderator, reason="No source.")
    return {"published": published, "pending": pending, "rejected": rejected}


def raw(sql, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_the_services_refuse_to_delete_a_revision(revisions):
    with pytest.raises(PermissionDenied):
        revisions["published"].delete()
    assert Revision.objects.filter(pk=revisions["published"].pk).exists()


@pytest.mark.parametrize("which", ["published", "rejected", "pending"])
def test_the_database_refuses_to_delete_any_revision(which, revisions):
    require_postgres()
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM articles_revision WHERE id = %s", revisions[which].pk)
    assert Revision.objects.filter(pk=revisions[which].pk).exists()


def test_the_database_refuses_a_queryset_delete(revisions):
    """A queryset's delete() skips Revision.delete(); a revision nothing protects still stays."""
    require_postgres()
    published = revisions["published"]
    bare = Revision.objects.create(
        content_type=published.content_type,
        object_id=published.object_id,
        object_repr="bare",
        data={},
        summary="No events refer to it",
    )
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Revision.objects.filter(pk=bare.pk).delete()
    assert Revision.objects.filter(pk=bare.pk).exists()


@pytest.mark.parametrize(
    "column,value",
    [
        ("data", '{"body": "Rewritten history."}'),
        ("action", "delete"),
        ("object_id", 999999),
        ("base_id", "another revision"),
        ("status", "pending"),
        ("original_data", '{"body": "x"}'),
    ],
)
@pytest.mark.parametrize("which", ["published", "rejected"])
def test_the_database_refuses_to_change_a_decided_revision(which, column, value, revisions):
    require_postgres()
    revision = revisions[which]
    value = revisions["pending"].pk if value == "another revision" else value
    before = Revision.objects.values().get(pk=revision.pk)
    with pytest.raises(IntegrityError, match="decided revision cannot be changed"):
        raw(f"UPDATE articles_revision SET {column} = %s WHERE id = %s", value, revision.pk)
    assert Revision.objects.values().get(pk=revision.pk) == before


def test_what_stays_allowed(revisions, editor):
    require_postgres()
    pending, published = revisions["pending"], revisions["published"]
    # A pending proposal may still be amended, merged or rebased.
    assert raw("UPDATE articles_revision SET data = %s WHERE id = %s", '{"body": "Amended."}', pending.pk) == 1
    moderation.amend(revision=pending, user=editor, data={**pending.data, "body": "Amended again."}, summary="Typo")
    # A decided revision's bookkeeping may change: its author's account being deleted, for one.
    assert raw("UPDATE articles_revision SET summary = summary WHERE id = %s", published.pk) == 1
    User.objects.filter(pk=editor.pk).delete()
    assert Revision.objects.get(pk=revisions["rejected"].pk).author_id is None
    # And the whole life of a proposal still works: approve it.
    moderator = User.objects.get(username="moderator")
    moderation.approve(revision=Revision.objects.get(pk=pending.pk), moderator=moderator)
    assert Revision.objects.get(pk=pending.pk).status == RevisionStatus.PUBLISHED


def test_inserting_a_decided_revision_is_allowed(revisions):
    """What `manage.py restore` does: decided revisions arrive by INSERT."""
    require_postgres()
    published = Revision.objects.get(pk=revisions["published"].pk)
    copy = Revision.objects.create(
        content_type=published.content_type,
        object_id=published.object_id,
        object_repr="copy",
        action=published.action,
        status=RevisionStatus.PUBLISHED,
        data=published.data,
        summary="copy",
        decided_at=published.decided_at,
    )
    assert copy.pk


def test_the_trigger_is_installed_only_on_postgresql():
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'articles_revision'::regclass AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["articles_revision_append_only"]


def test_the_migration_has_a_real_reverse():
    """0009's reverse drops the trigger and its function; applying it again brings them back."""
    require_postgres()
    from importlib import import_module

    from django.apps import apps

    migration = import_module("articles.migrations.0009_revisions_append_only")

    def installed():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'articles_revision_append_only'")
            triggers = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'articles_revision_append_only'")
            return triggers, cursor.fetchone()[0]

    with connection.schema_editor() as editor:
        migration.drop_trigger(apps, editor)
    assert installed() == (0, 0)
    with connection.schema_editor() as editor:
        migration.create_trigger(apps, editor)
    assert installed() == (1, 1)


# --- The whole record of a decision, and the audit trail (migration 0015) -------------------------
#
# These run on SQLite and on PostgreSQL: both refuse an UPDATE. Only PostgreSQL refuses a DELETE
# of a moderation event (SQLite's test flush deletes rows; see the migration).


def _other_user():
    return User.objects.create_user("someone-else")


@pytest.mark.parametrize(
    "column,value",
    [
        ("summary", "A nicer summary"),
        ("author_name", "Somebody else"),
        ("created_at", "2001-01-01 00:00:00+00:00"),
        ("decided_at", "2001-01-01 00:00:00+00:00"),
        ("decision_note", "Another reason"),
        ("object_repr", "Another object"),
        ("author_id", "other user"),
        ("decided_by_id", "other user"),
    ],
)
@pytest.mark.parametrize("which", ["published", "rejected"])
def test_the_database_refuses_to_rewrite_who_decided_what_and_when(which, column, value, revisions):
    revision = revisions[which]
    value = _other_user().pk if value == "other user" else value
    before = Revision.objects.values().get(pk=revision.pk)
    with pytest.raises(IntegrityError, match="decided revision cannot be changed"):
        raw(f"UPDATE articles_revision SET {column} = %s WHERE id = %s", value, revision.pk)
    assert Revision.objects.values().get(pk=revision.pk) == before


def test_a_pending_proposal_can_still_be_amended_and_decided_on_every_database(revisions, editor, moderator):
    pending = revisions["pending"]
    assert raw("UPDATE articles_revision SET summary = %s WHERE id = %s", "Better summary", pending.pk) == 1
    moderation.amend(revision=pending, user=editor, data={**pending.data, "body": "Amended."}, summary="Typo")
    moderation.approve(revision=Revision.objects.get(pk=pending.pk), moderator=moderator)
    assert Revision.objects.get(pk=pending.pk).status == RevisionStatus.PUBLISHED


@pytest.mark.parametrize(
    "column,value",
    [
        ("note", "Nothing to see"),
        ("kind", "approved"),
        ("actor_name", "Somebody else"),
        ("at", "2001-01-01 00:00:00+00:00"),
        ("revision_id", "another revision"),
        ("actor_id", "other user"),
    ],
)
def test_the_database_refuses_to_change_a_moderation_event(column, value, revisions):
    event = ModerationEvent.objects.filter(revision=revisions["rejected"], kind="rejected").get()
    value = {"other user": lambda: _other_user().pk, "another revision": lambda: revisions["pending"].pk}.get(
        value, lambda: value
    )()
    before = ModerationEvent.objects.values().get(pk=event.pk)
    with pytest.raises(IntegrityError, match="append-only"):
        raw(f"UPDATE articles_moderationevent SET {column} = %s WHERE id = %s", value, event.pk)
    assert ModerationEvent.objects.values().get(pk=event.pk) == before


def test_the_database_refuses_to_delete_moderation_events(revisions):
    require_postgres()
    count = ModerationEvent.objects.count()
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM articles_moderationevent")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ModerationEvent.objects.filter(revision=revisions["rejected"]).delete()
    assert ModerationEvent.objects.count() == count


def test_deleting_an_account_keeps_its_decisions_and_events_under_its_name(revisions, editor):
    """on_delete=SET_NULL is the one change the database allows to the record: the name stays."""
    rejected = revisions["rejected"]
    User.objects.filter(pk=editor.pk).delete()
    rejected = Revision.objects.get(pk=rejected.pk)
    assert rejected.author_id is None and rejected.author_name
    proposed = ModerationEvent.objects.get(revision=rejected, kind="proposed")
    assert proposed.actor_id is None and proposed.actor_name == rejected.author_name


def test_the_audit_triggers_are_installed():
    """SQLite drops a table's triggers when a migration rebuilds it: this notices."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'articles_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"articles_revision_append_only", "articles_moderationevent_append_only"} <= names


def test_the_audit_migration_has_a_real_reverse(revisions):
    """0015's reverse leaves 0009's trigger alone and events deletable again; applying it restores the rules."""
    require_postgres()
    from importlib import import_module

    from django.apps import apps

    migration = import_module("articles.migrations.0015_audit_append_only")
    event = ModerationEvent.objects.filter(revision=revisions["rejected"]).first()
    with connection.schema_editor() as editor:
        migration.drop_triggers(apps, editor)
    assert raw("UPDATE articles_revision SET summary = 'x' WHERE id = %s", revisions["rejected"].pk) == 1
    assert raw("UPDATE articles_moderationevent SET note = 'x' WHERE id = %s", event.pk) == 1
    with connection.schema_editor() as editor:
        migration.create_triggers(apps, editor)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("UPDATE articles_moderationevent SET note = 'y' WHERE id = %s", event.pk)
    with pytest.raises(IntegrityError, match="decided revision"):
        raw("UPDATE articles_revision SET summary = 'y' WHERE id = %s", revisions["rejected"].pk)
