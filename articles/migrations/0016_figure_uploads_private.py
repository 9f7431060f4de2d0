"""Figure uploads are stored privately until approval (articles.content.figure_files).

The field now writes to the private storage. Files uploaded before this change are all in the
public media; those no approved revision ever showed (drafts, pending, rejected or withdrawn
proposals) are moved to the private storage, so readers cannot reach them. The reverse moves them
back.
"""

from django.core.files.storage import storages
from django.db import migrations, models

import articles.content.figure_files


def _never_approved(apps) -> set[str]:
    Figure = apps.get_model("articles", "Figure")
    Revision = apps.get_model("articles", "Revision")
    figure_revisions = Revision.objects.filter(content_type__app_label="articles", content_type__model="figure")
    approved, proposed = set(), set()
    for status, data in figure_revisions.values_list("status", "data").iterator(chunk_size=500):
        image = (data or {}).get("image") or ""
        (approved if status == "published" else proposed).add(image)
    proposed |= set(Figure.objects.exclude(live_revision__isnull=False).values_list("image", flat=True))
    return {name for name in proposed - approved if name.startswith("figures/")}


def _move(names, source, target):
    for name in sorted(names):
        if source.exists(name) and not target.exists(name):
            with source.open(name, "rb") as handle:
                stored = target.save(name, handle)
            if stored == name:
                source.delete(name)


def move_unapproved_uploads(apps, schema_editor):
    _move(_never_approved(apps), storages["default"], storages[articles.content.figure_files.PRIVATE])


def move_them_back(apps, schema_editor):
    _move(_never_approved(apps), storages[articles.content.figure_files.PRIVATE], storages["default"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0015_audit_append_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="figure",
            name="image",
            field=models.ImageField(
                height_field="height",
                help_text="PNG, JPEG or WebP, at most 5 MB. Location data and other metadata are removed.",
                storage=articles.content.figure_files.figure_storage,
                upload_to="figures/",
                verbose_name="image",
                width_field="width",
            ),
        ),
        migrations.RunPython(move_unapproved_uploads, move_them_back, elidable=False),
    ]
