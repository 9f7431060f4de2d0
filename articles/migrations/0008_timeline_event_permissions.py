"""Let the Editor and Moderator groups add, change, delete and view timeline events.

The groups were created by 0002_editorial_groups with the content models of that time. The
reverse takes these permissions away again and leaves the groups' other permissions alone.
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [f"{action}_timelineevent" for action in ("add", "change", "delete", "view")]
GROUPS = ("Editor", "Moderator")


def _permissions(apps):
    # Permissions are normally created after migrations; make sure these exist now.
    app_config = apps.get_app_config("articles")
    original = getattr(app_config, "models_module", None)
    app_config.models_module = original or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = original
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="articles", codename__in=CODENAMES)


def grant(apps, schema_editor):
    permissions = list(_permissions(apps))
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="articles", codename__in=CODENAMES))
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0007_timeline_events_and_figure_renditions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
