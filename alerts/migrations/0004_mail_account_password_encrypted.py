"""The mail account password encrypted at rest (opsdesk.fields.EncryptedTextField): the column becomes
text (a Fernet token is longer than the password) and every stored password is encrypted."""

from django.db import migrations

import opsdesk.fields


def encrypt_passwords(apps, schema_editor):
    MailAccount = apps.get_model("alerts", "MailAccount")
    for account in MailAccount.objects.only("pk", "password"):
        # The field reads a plaintext row as it is and encrypts it on the way back in.
        MailAccount.objects.filter(pk=account.pk).update(password=account.password)


def decrypt_passwords(apps, schema_editor):
    MailAccount = apps.get_model("alerts", "MailAccount")
    rows = [(account.pk, account.password) for account in MailAccount.objects.only("pk", "password")]
    with schema_editor.connection.cursor() as cursor:
        for pk, plaintext in rows:
            cursor.execute("UPDATE alerts_mailaccount SET password = %s WHERE id = %s", [plaintext, pk])


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0003_teach_bind_review"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mailaccount",
            name="password",
            field=opsdesk.fields.EncryptedTextField(verbose_name="password"),
        ),
        migrations.RunPython(encrypt_passwords, decrypt_passwords),
    ]
