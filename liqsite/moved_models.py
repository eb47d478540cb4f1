"""Migrations that move a model to another app keep its table and its content type.

The table keeps its old name (``Meta.db_table``), so the move is a change of
Django's state only. The content type row is renamed too, so permissions
granted on the model and the admin's history of its rows follow it.
"""

from django.db import migrations


def move_content_types(old_app: str, new_app: str, models: list[str]) -> migrations.RunPython:
    def forward(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        content_types.objects.filter(app_label=old_app, model__in=models).update(app_label=new_app)

    def backward(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        content_types.objects.filter(app_label=new_app, model__in=models).update(app_label=old_app)

    return migrations.RunPython(forward, backward)
