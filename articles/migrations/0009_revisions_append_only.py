"""Revisions are append-only, in the database itself (PostgreSQL).

The services never delete a revision or change a decided one (``Revision.delete`` raises), but a
queryset ``.delete()``, a raw ``UPDATE`` or a script run by hand would not go through them. On
PostgreSQL a row trigger refuses:

* any DELETE of a revision;
* an UPDATE of a decided revision (status no longer pending or scheduled) that changes its
  content (data, base, action, object, kind, the author's original version) or its status.

Inserting is always allowed (``manage.py restore`` inserts decided revisions), and so is updating
a decided revision's other columns: a deleted user's or article's reference becoming NULL
(on_delete=SET_NULL). TRUNCATE, which test teardown uses, fires no row trigger. SQLite has no
such triggers here: there, the services are the guard.
"""
from django.db import migrations

CREATE = """
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

CREATE TRIGGER articles_revision_append_only
    BEFORE UPDATE OR DELETE ON articles_revision
    FOR EACH ROW EXECUTE FUNCTION articles_revision_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS articles_revision_append_only ON articles_revision;
DROP FUNCTION IF EXISTS articles_revision_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no placeholders: "%" is PL/pgSQL's own


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0008_timeline_event_permissions"),
    ]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
