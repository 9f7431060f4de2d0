"""Count, when an article changes, how much it says of each source and topic (``Mention`` rows).

Source and topic pages list the articles that cite or discuss them, a page at a time, with
counts. Counting those from the citation and section rows at read time costs a scan of every
citation of a popular source or every section of a hub topic; counting them here costs one
article's rows, whatever the size of the site.

Called by the publishing service for the article a published section belongs to (and the one it
left) and for a published article, inside the publish transaction, which holds that article's row
lock: two publishes of one article cannot count it at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from articles.models import Article, Citation, Mention, PublicationState, Section

BATCH = 200


def _insert_sql(count: int) -> str:
    mention, citation, section, article = (m._meta.db_table for m in (Mention, Citation, Section, Article))
    tagged = Section.topics.through._meta.db_table
    placeholders = ", ".join(["%s"] * count)
    # One statement for both kinds: publishing a section stays within its query budget.
    return f"""
        INSERT INTO {mention} (article_id, article_title, source_id, topic_id, sections, citations)
        SELECT s.article_id, a.title, c.source_id, NULL, COUNT(DISTINCT c.section_id), COUNT(*)
          FROM {citation} c
          JOIN {section} s ON s.id = c.section_id
          JOIN {article} a ON a.id = s.article_id
         WHERE s.article_id IN ({placeholders}) AND s.state = %s AND a.state = %s
         GROUP BY s.article_id, a.title, c.source_id
        UNION ALL
        SELECT s.article_id, a.title, NULL, t.topic_id, COUNT(*), 0
          FROM {tagged} t
          JOIN {section} s ON s.id = t.section_id
          JOIN {article} a ON a.id = s.article_id
         WHERE s.article_id IN ({placeholders}) AND s.state = %s AND a.state = %s
         GROUP BY s.article_id, a.title, t.topic_id
    """


def refresh(article_ids: Iterable[int]) -> None:
    """Count the given articles' mentions again from their published sections: two statements."""
    ids = sorted({pk for pk in article_ids if pk})
    if not ids:
        return
    Mention.objects.filter(article_id__in=ids).delete()
    live = PublicationState.LIVE
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(len(ids)), [*ids, live, live, *ids, live, live])


def rebuild(*, batch_size: int = BATCH) -> int:
    """Count every article again (``manage.py refresh_fragments``); return how many.

    A batch at a time, each in a short transaction holding its articles' row locks, in the
    global order (by primary key), as a publish would.
    """
    done = last = 0
    articles = Article.objects.order_by("pk").values_list("pk", flat=True)
    while batch := list(articles.filter(pk__gt=last)[:batch_size]):
        last = batch[-1]
        with transaction.atomic():
            list(Article.objects.select_for_update(no_key=True).filter(pk__in=batch).order_by("pk").values("pk"))
            refresh(batch)
        done += len(batch)
    return done
