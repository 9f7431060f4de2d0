"""Create the Editor and Moderator groups with their permissions."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_MODELS = ("article", "section", "topic", "source", "figure")
EDITOR = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")] + [
    "view_revision",
    "view_moderationevent",
    "propose_revision",
]
MODERATOR = EDITOR + ["moderate_revision"]
GROUPS = {"Editor": EDITOR, "Moderator": MODERATOR}


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="articles", codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
