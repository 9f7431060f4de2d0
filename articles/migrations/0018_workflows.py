"""Review workflows: steps taken by groups, chosen per kind of content.

A proposal sent back for changes ("returned") is still open, like a pending one: its author amends
it. The append-only rules of migration 0015 are rebuilt so that a returned revision may change, and
so that a moderation event's new column, the step it was taken at, is frozen like the rest of it.
SQLite drops a table's triggers when a migration rebuilds it (adding ``step_name`` does), so the
triggers are created again here, last.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

audit = import_module("articles.migrations.0015_audit_append_only")

OPEN_STATUSES = "('pending', 'scheduled', 'returned')"
EVENT_FROZEN = (*audit.EVENT_FROZEN, "step_name")
PG_REVISION_CHANGED = audit._changed(audit.REVISION_FROZEN, audit.REVISION_NULLABLE, "IS DISTINCT FROM")
PG_EVENT_CHANGED = audit._changed(EVENT_FROZEN, audit.EVENT_NULLABLE, "IS DISTINCT FROM")

PG_REPLACE = f"""
CREATE OR REPLACE FUNCTION articles_revision_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Revisions are append-only: revision % cannot be deleted.', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status NOT IN {OPEN_STATUSES} AND ({PG_REVISION_CHANGED}) THEN
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
"""

SQLITE_CREATE = (
    f"""
CREATE TRIGGER articles_revision_append_only
    BEFORE UPDATE ON articles_revision
    FOR EACH ROW WHEN OLD.status NOT IN {OPEN_STATUSES}
        AND ({audit._changed(audit.REVISION_FROZEN, audit.REVISION_NULLABLE, "IS NOT")})
BEGIN
    SELECT RAISE(ABORT, 'Revisions are append-only: a decided revision cannot be changed.');
END
""",
    f"""
CREATE TRIGGER articles_moderationevent_append_only
    BEFORE UPDATE ON articles_moderationevent
    FOR EACH ROW WHEN {audit._changed(EVENT_FROZEN, audit.EVENT_NULLABLE, "IS NOT")}
BEGIN
    SELECT RAISE(ABORT, 'The audit trail is append-only: a moderation event cannot be changed.');
END
""",
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REPLACE, params=None)  # no placeholders: "%" is PL/pgSQL's own
    elif vendor == "sqlite":
        for statement in (*audit.SQLITE_DROP, *SQLITE_CREATE):
            schema_editor.execute(statement, params=None)


def restore_0015_triggers(apps, schema_editor):
    """The reverse: 0015's rules, as they were."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS articles_moderationevent_append_only ON articles_moderationevent", params=None
        )
    elif vendor == "sqlite":
        for statement in audit.SQLITE_DROP:
            schema_editor.execute(statement, params=None)
    audit.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0017_counted_mentions_and_list_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="Workflow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True, verbose_name="name")),
                (
                    "description",
                    models.TextField(
                        blank=True,
                        help_text="What this review is for; shown to nobody but staff.",
                        verbose_name="description",
                    ),
                ),
            ],
            options={
                "verbose_name": "review workflow",
                "verbose_name_plural": "review workflows",
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="moderationevent",
            name="step_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="step"),
        ),
        migrations.AlterField(
            model_name="moderationevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("proposed", "Proposed"),
                    ("amended", "Amended"),
                    ("withdrawn", "Withdrawn"),
                    ("approved", "Approved and published"),
                    ("published_directly", "Published directly"),
                    ("merged", "Merged with newer changes"),
                    ("scheduled", "Approved for a later time"),
                    ("schedule_failed", "Scheduled publishing failed"),
                    ("rejected", "Rejected"),
                    ("reverted", "Reverted"),
                    ("overridden", "Changed by a superuser"),
                    ("published_over", "Published over newer changes"),
                    ("step_approved", "Step approved"),
                    ("changes_requested", "Changes requested"),
                    ("resubmitted", "Resubmitted for review"),
                ],
                max_length=32,
                verbose_name="event",
            ),
        ),
        migrations.AlterField(
            model_name="revision",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending review"),
                    ("scheduled", "Approved, scheduled"),
                    ("published", "Published"),
                    ("rejected", "Rejected"),
                    ("withdrawn", "Withdrawn"),
                    ("returned", "Changes requested"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="WorkflowAssignment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "content_type",
                    models.OneToOneField(
                        help_text="Proposals of this kind go through the workflow's steps; a kind can have one workflow.",
                        limit_choices_to={
                            "app_label": "articles",
                            "model__in": ("article", "section", "topic", "source", "figure", "timelineevent"),
                        },
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="kind of content",
                    ),
                ),
                (
                    "workflow",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="articles.workflow",
                        verbose_name="workflow",
                    ),
                ),
            ],
            options={
                "verbose_name": "kind of content reviewed this way",
                "verbose_name_plural": "kinds of content reviewed this way",
            },
        ),
        migrations.CreateModel(
            name="WorkflowStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=1,
                        help_text="Steps are taken from the lowest number to the highest.",
                        verbose_name="order",
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="For example “Fact-check” or “Copy-edit and publish”.",
                        max_length=100,
                        verbose_name="name",
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        help_text="Only its members (and superusers) can decide this step. They need staff status.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="review_steps",
                        to="auth.group",
                        verbose_name="done by the group",
                    ),
                ),
                (
                    "workflow",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="articles.workflow",
                        verbose_name="workflow",
                    ),
                ),
            ],
            options={
                "verbose_name": "step",
                "verbose_name_plural": "steps",
                "ordering": ["workflow", "position", "pk"],
            },
        ),
        migrations.AddField(
            model_name="revision",
            name="review_step",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="articles.workflowstep",
                verbose_name="review step",
            ),
        ),
        migrations.AddConstraint(
            model_name="workflowstep",
            constraint=models.UniqueConstraint(fields=("workflow", "position"), name="workflow_step_position_unique"),
        ),
        migrations.RunPython(create_triggers, restore_0015_triggers, elidable=False),
    ]
