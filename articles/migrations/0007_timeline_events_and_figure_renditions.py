"""Timeline events (moderated, dated content) and the responsive renditions recorded on figures."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0006_site_search'),
    ]

    operations = [
        migrations.AddField(
            model_name='figure',
            name='renditions',
            field=models.JSONField(blank=True, default=list, editable=False, help_text='Smaller copies for phones and screens, made when the figure is published.', verbose_name='renditions'),
        ),
        migrations.CreateModel(
            name='TimelineEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(choices=[('draft', 'Draft (never published)'), ('live', 'Published'), ('unpublished', 'Unpublished'), ('deleted', 'Deleted')], db_index=True, default='draft', editable=False, max_length=16, verbose_name='state')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='last updated')),
                ('title', models.CharField(help_text='What happened, in a few words, e.g. “MINUSMA created”.', max_length=200, verbose_name='title')),
                ('date_year', models.PositiveSmallIntegerField(verbose_name='year')),
                ('date_month', models.PositiveSmallIntegerField(blank=True, help_text='1 to 12. Leave empty when only the year is known.', null=True, verbose_name='month')),
                ('date_day', models.PositiveSmallIntegerField(blank=True, help_text='Leave empty when only the month is known.', null=True, verbose_name='day')),
                ('text', models.TextField(blank=True, help_text='One or two sentences in Markdown. Cite sources as [@key].', verbose_name='text')),
                ('text_html', models.TextField(blank=True, editable=False)),
                ('cited_sources', models.ManyToManyField(blank=True, editable=False, related_name='timeline_events', to='articles.source', verbose_name='sources cited')),
                ('live_revision', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='articles.revision', verbose_name='live revision')),
                ('topics', models.ManyToManyField(blank=True, help_text='The event also shows on the timeline of each topic chosen here.', related_name='timeline_events', to='articles.topic', verbose_name='topics')),
            ],
            options={
                'verbose_name': 'timeline event',
                'verbose_name_plural': 'timeline events',
                'ordering': ['date_year', models.OrderBy(models.F('date_month'), nulls_first=True), models.OrderBy(models.F('date_day'), nulls_first=True), 'title', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('date_year__gte', 1)), name='timelineevent_year_positive'), models.CheckConstraint(condition=models.Q(('date_month__isnull', True), models.Q(('date_month__gte', 1), ('date_month__lte', 12)), _connector='OR'), name='timelineevent_month_in_range'), models.CheckConstraint(condition=models.Q(('date_day__isnull', True), models.Q(('date_day__gte', 1), ('date_day__lte', 31)), _connector='OR'), name='timelineevent_day_in_range'), models.CheckConstraint(condition=models.Q(('date_day__isnull', True), ('date_month__isnull', False), _connector='OR'), name='timelineevent_day_needs_month')],
            },
        ),
    ]
