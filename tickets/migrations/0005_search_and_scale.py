"""Finding requests at the bank's scale (issue 18): the access rows carry the request's filing time
(a unit's list newest first reads one index), indexes for the origin centres, the newest-first list and
"handled by me", saved views, ratings in words, and a trigram index for Chinese text search.

The trigram extension, the bigram function and the text indexes exist on PostgreSQL only; SQLite (a
developer's `make run`) searches the subject with LIKE alone (tickets.search)."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.utils import timezone

TRIGRAM_INDEX = "tickets_sr_subject_trgm"


def copy_filing_time(apps, schema_editor):
    schema_editor.execute(
        "UPDATE tickets_requestaccess SET filed_at = (SELECT r.created_at FROM tickets_servicerequest r "
        "WHERE r.id = tickets_requestaccess.request_id)")


BIGRAM_INDEX = "tickets_sr_subject_bigram"
# The subject's pairs of characters: a trigram index cannot answer a search for two characters, and
# two characters are a word in Chinese (卡纸, 网银). Used by tickets.search.
BIGRAM_FUNCTION = """
CREATE OR REPLACE FUNCTION tickets_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(value, i, 2)), '{}')
    FROM generate_series(1, length(value) - 1) AS i
$$"""


def create_text_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The expression Django's icontains compares (UPPER(subject::text) LIKE UPPER('%…%')).
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON tickets_servicerequest "
                              "USING gin ((UPPER(subject::text)) gin_trgm_ops)")
        schema_editor.execute(BIGRAM_FUNCTION)
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {BIGRAM_INDEX} ON tickets_servicerequest "
                              "USING gin (tickets_bigrams(UPPER(subject::text)))")


def drop_text_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {BIGRAM_INDEX}")
        schema_editor.execute("DROP FUNCTION IF EXISTS tickets_bigrams(text)")


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("org", "0001_initial"),
        ("tickets", "0004_configuration_history_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="requestaccess",
            name="filed_at",
            field=models.DateTimeField(null=True, verbose_name="filed"),
        ),
        migrations.RunPython(copy_filing_time, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="requestaccess",
            name="filed_at",
            field=models.DateTimeField(verbose_name="filed"),
        ),
        migrations.AddIndex(
            model_name="requestaccess",
            index=models.Index(fields=["unit", "-filed_at", "-request"], name="tickets_access_unit_filed"),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(fields=["origin_county", "-created_at", "-id"], name="tickets_sr_origin_county"),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(fields=["origin_city", "-created_at", "-id"], name="tickets_sr_origin_city"),
        ),
        migrations.AddIndex(
            model_name="servicerequest",
            index=models.Index(fields=["-created_at", "-id"], name="tickets_sr_newest"),
        ),
        migrations.AddIndex(
            model_name="requestevent",
            index=models.Index(fields=["actor", "request"], name="tickets_event_actor"),
        ),
        migrations.AlterField(
            model_name="servicerequest",
            name="rating",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="satisfaction rating",
                choices=[(5, "Very satisfied"), (4, "Satisfied"), (3, "Neutral"), (2, "Dissatisfied"),
                         (1, "Very dissatisfied")]),
        ),
        migrations.CreateModel(
            name="SavedView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=60, verbose_name="name")),
                ("query", models.CharField(blank=True, max_length=1000, verbose_name="filters")),
                ("created_at", models.DateTimeField(default=timezone.now, verbose_name="saved")),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name="saved_request_views", to=settings.AUTH_USER_MODEL,
                                            verbose_name="owner")),
            ],
            options={
                "verbose_name": "saved view",
                "verbose_name_plural": "saved views",
                "ordering": ["name", "pk"],
                "constraints": [models.UniqueConstraint(fields=("owner", "name"), name="tickets_savedview_name_once")],
            },
        ),
        TrigramExtension(),
        migrations.RunPython(create_text_indexes, drop_text_indexes),
    ]
