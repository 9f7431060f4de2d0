"""Site search: the SearchEntry table, plus the full-text index each database needs.

PostgreSQL gets a GIN index on the stored tsvector; SQLite gets an FTS5 table (rowid = entry id)
instead. The index is created here rather than declared on the model because SQLite cannot build
a GIN index. Entries are filled at publish time, or by ``manage.py rebuild_search_index``.
"""
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models


class RunSQLOn(migrations.RunSQL):
    """RunSQL for one database vendor only; a no-op elsewhere."""

    def __init__(self, vendor, *args, **kwargs):
        self.vendor = vendor
        super().__init__(*args, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0005_reader_corrections"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("article", "Article"), ("section", "Section"), ("topic", "Topic"), ("source", "Source")], max_length=16, verbose_name="kind")),
                ("object_id", models.PositiveBigIntegerField(verbose_name="object id")),
                ("title", models.CharField(max_length=500, verbose_name="title")),
                ("context", models.CharField(blank=True, help_text="Shown beside the title: a section's article, a source's kind.", max_length=300, verbose_name="context")),
                ("url", models.CharField(max_length=500, verbose_name="address")),
                ("text", models.TextField(blank=True, verbose_name="plain text")),
                ("vector", django.contrib.postgres.search.SearchVectorField(editable=False, null=True)),
                ("indexed_at", models.DateTimeField(auto_now=True, verbose_name="indexed at")),
                ("article", models.ForeignKey(blank=True, help_text="The article itself, or the article a section belongs to.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="articles.article", verbose_name="article")),
            ],
            options={
                "verbose_name": "search entry",
                "verbose_name_plural": "search entries",
                "ordering": ["kind", "object_id"],
                "constraints": [models.UniqueConstraint(fields=("kind", "object_id"), name="search_entry_unique_object")],
            },
        ),
        RunSQLOn(
            "postgresql",
            "CREATE INDEX search_entry_vector_gin ON articles_searchentry USING gin (vector)",
            "DROP INDEX IF EXISTS search_entry_vector_gin",
        ),
        RunSQLOn(
            "sqlite",
            # Both columns hold words already folded by articles.search; the tokenizer's own
            # diacritics removal only matters for text written by other means.
            "CREATE VIRTUAL TABLE articles_searchentry_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2')",
            "DROP TABLE IF EXISTS articles_searchentry_fts",
        ),
    ]
