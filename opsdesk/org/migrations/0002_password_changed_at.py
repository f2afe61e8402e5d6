from django.db import migrations, models
from django.utils import timezone


def start_the_clock(apps, schema_editor):
    # Existing passwords are of unknown age: their expiry counts from this upgrade, not from 1970.
    apps.get_model("org", "User").objects.exclude(password__startswith="!").update(password_changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="password changed at"),
        ),
        migrations.RunPython(start_the_clock, migrations.RunPython.noop),
        # DRF's authtoken (replaced by django-rest-knox) kept every API token readable: the table goes, and
        # its tokens stop working with it. Scripts ask /api/auth/token/ for a new one.
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
