# Batched delivery (issue 15): the index delivery claims from, delivery receipts, and two foreign-key
# indexes dropped that the composite indexes already serve (every index is paid on each insert).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0007_configuration_history_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="receipt",
            field=models.CharField(blank=True, choices=[("", "No receipt"), ("delivered", "Delivered to the phone"),
                                                        ("undelivered", "Failed at the phone")],
                                   default="", max_length=12, verbose_name="delivery receipt"),
        ),
        migrations.AddField(
            model_name="notification",
            name="receipt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="receipt received"),
        ),
        migrations.AddField(
            model_name="notification",
            name="receipt_state",
            field=models.CharField(blank=True, max_length=30, verbose_name="network state"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="notifications",
                                    to=settings.AUTH_USER_MODEL, verbose_name="recipient"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="content_type",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, to="contenttypes.contenttype"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(condition=models.Q(("status__in", ["queued", "sending", "failed"])), fields=["id"],
                               name="notif_pending"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(condition=models.Q(("provider_message_id", ""), _negated=True),
                               fields=["provider_message_id"], name="notif_provider_id",
                               opclasses=["varchar_pattern_ops"]),
        ),
    ]
