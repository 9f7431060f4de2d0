"""The audit trail is append-only in the database: decided revisions and moderation events.

Migration 0009 made PostgreSQL refuse deleting a revision and changing a decided revision's
content or status. Raw SQL could still rewrite the rest of the record: its summary, author and
dates, and delete or rewrite moderation events. Now:

* a decided revision (neither pending nor scheduled) keeps every column as it is, except the
  references to an article, an author or a moderator, which may only become NULL (what
  ``on_delete=SET_NULL`` does when that row is deleted);
* a moderation event is never deleted, and never changed except for its actor becoming NULL.

On PostgreSQL both are row triggers on UPDATE and DELETE. TRUNCATE, which test teardown uses, fires
no row trigger, and inserting stays allowed (``manage.py restore``).

On SQLite the same UPDATE rules are triggers too. Deleting is not refused there: the test suite's
flush between transactional tests (live-server and browser tests) empties tables with DELETE,
which a row trigger would refuse. ``Revision.delete`` and the services are the guard on SQLite.
SQLite drops a table's triggers when a migration rebuilds the table; the tests check that they
are installed after every migration.
"""

from django.db import migrations

# Columns a decided revision keeps for ever (every column but the three nullable references).
REVISION_FROZEN = (
    "id",
    "content_type_id",
    "object_id",
    "object_repr",
    "action",
    "status",
    "data",
    "base_id",
    "summary",
    "author_name",
    "created_at",
    "updated_at",
    "decided_at",
    "decision_note",
    "scheduled_for",
    "original_data",
    "original_base_id",
    "reverted_from_id",
)
REVISION_NULLABLE = ("article_id", "author_id", "decided_by_id")
EVENT_FROZEN = ("id", "revision_id", "kind", "actor_name", "at", "note")
EVENT_NULLABLE = ("actor_id",)


def _changed(columns, nullable, distinct):
    """A SQL condition: a frozen column changed, or a nullable reference changed to anything but NULL."""
    return " OR ".join(
        [f"NEW.{c} {distinct} OLD.{c}" for c in columns]
        + [f"(NEW.{c} {distinct} OLD.{c} AND NEW.{c} IS NOT NULL)" for c in nullable]
    )


PG_REVISION_CHANGED = _changed(REVISION_FROZEN, REVISION_NULLABLE, "IS DISTINCT FROM")
PG_EVENT_CHANGED = _changed(EVENT_FROZEN, EVENT_NULLABLE, "IS DISTINCT FROM")

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION articles_revision_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Revisions are append-only: revision % cannot be deleted.', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status NOT IN ('pending', 'scheduled') AND ({PG_REVISION_CHANGED}) THEN
        RAISE EXCEPTION 'Revision % is %: a decided revision cannot be changed.', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION articles_moderationevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: moderation event % cannot be deleted.', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF {PG_EVENT_CHANGED} THEN
        RAISE EXCEPTION 'The audit trail is append-only: moderation event % cannot be changed.', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER articles_moderationevent_append_only
    BEFORE UPDATE OR DELETE ON articles_moderationevent
    FOR EACH ROW EXECUTE FUNCTION articles_moderationevent_append_only();
"""

# 0009's function, as it was: the reverse of this migration.
PG_DROP = """
DROP TRIGGER IF EXISTS articles_moderationevent_append_only ON articles_moderationevent;
DROP FUNCTION IF EXISTS articles_moderationevent_append_only();

CREATE OR REPLACE FUNCTION articles_revision_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Revisions are append-only: revision % cannot be deleted.', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status NOT IN ('pending', 'scheduled') AND (
        NEW.status IS DISTINCT FROM OLD.status
        OR NEW.data IS DISTINCT FROM OLD.data
        OR NEW.base_id IS DISTINCT FROM OLD.base_id
        OR NEW.action IS DISTINCT FROM OLD.action
        OR NEW.object_id IS DISTINCT FROM OLD.object_id
        OR NEW.content_type_id IS DISTINCT FROM OLD.content_type_id
        OR NEW.original_data IS DISTINCT FROM OLD.original_data
        OR NEW.original_base_id IS DISTINCT FROM OLD.original_base_id
    ) THEN
        RAISE EXCEPTION 'Revision % is %: a decided revision cannot be changed.', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
"""

SQLITE_CREATE = (
    f"""
CREATE TRIGGER articles_revision_append_only
    BEFORE UPDATE ON articles_revision
    FOR EACH ROW WHEN OLD.status NOT IN ('pending', 'scheduled') AND ({_changed(REVISION_FROZEN, REVISION_NULLABLE, "IS NOT")})
BEGIN
    SELECT RAISE(ABORT, 'Revisions are append-only: a decided revision cannot be changed.');
END
""",
    f"""
CREATE TRIGGER articles_moderationevent_append_only
    BEFORE UPDATE ON articles_moderationevent
    FOR EACH ROW WHEN {_changed(EVENT_FROZEN, EVENT_NULLABLE, "IS NOT")}
BEGIN
    SELECT RAISE(ABORT, 'The audit trail is append-only: a moderation event cannot be changed.');
END
""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS articles_revision_append_only",
    "DROP TRIGGER IF EXISTS articles_moderationevent_append_only",
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)  # no placeholders: "%" is PL/pgSQL's own
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0014_retired_slugs"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
