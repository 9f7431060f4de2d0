"""Twenty-three moderators approve proposals for one section at the same instant (PostgreSQL row locks).

Twenty proposals each reword a different paragraph of a twenty-paragraph section; three more
reword paragraphs that three of the twenty also reword. All are written against the same
published version and approved at once with ``merge=True``. The section row lock serialises them:
the first publishes as it is, every later non-overlapping one is merged three ways with what was
published meanwhile, and of each overlapping pair the later one is refused with MergeConflictError.
Nothing approved is lost.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connections

from articles.models import ArticleVersion, ModerationEvent, Revision, RevisionStatus, Section
from articles.publishing import publish
from articles.revisions import merging, moderation
from tests import factories
from tests.conftest import require_postgres

PARAGRAPHS = 20
OVERLAPPING = (0, 7, 19)  # paragraphs that a second proposal rewords too


def paragraph(i, text="the original wording"):
    return f"Paragraph {i} says {text} [@unsc-res-2100, para. {i + 1}]."


def body(texts: dict) -> str:
    return "\n\n".join(paragraph(i, texts.get(i, "the original wording")) for i in range(PARAGRAPHS))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_approvals_publish_every_non_overlapping_change(monkeypatch):
    require_postgres()
    moderators = [factories.make_user(f"moderator{i}", group="Moderator") for i in range(4)]
    editors = [factories.make_user(f"editor{i}", group="Editor") for i in range(4)]
    factories.source(moderators[0], key="unsc-res-2100")
    article = factories.article(moderators[0], title="Race", slug="race")
    section = factories.section(moderators[0], article, body=body({}))
    versions_before = ArticleVersion.objects.filter(article=article).count()

    proposals = []  # (paragraph, wording, revision)
    for i in range(PARAGRAPHS):
        wording = f"what editor {i} wrote"
        proposals.append(
            (
                i,
                wording,
                moderation.propose(
                    obj=section,
                    author=editors[i % 4],
                    summary=f"Reword paragraph {i}",
                    data={**section.snapshot(), "body": body({i: wording})},
                ),
            )
        )
    for i in OVERLAPPING:
        wording = f"a rival wording of paragraph {i}"
        proposals.append(
            (
                i,
                wording,
                moderation.propose(
                    obj=section,
                    author=editors[(i + 1) % 4],
                    summary=f"Rival for paragraph {i}",
                    data={**section.snapshot(), "body": body({i: wording})},
                ),
            )
        )
    base = section.live_revision_id
    assert all(revision.base_id == base for _, _, revision in proposals)

    # Hold each publish inside its transaction a moment, so that every other approval is queued
    # on the section's row lock rather than arriving after it.
    real_apply = publish.apply_revision

    def slow_apply(revision, obj):
        result = real_apply(revision, obj)
        time.sleep(0.05)
        return result

    monkeypatch.setattr(publish, "apply_revision", slow_apply)
    barrier = threading.Barrier(len(proposals))
    outcomes, order, lock = {}, [], threading.Lock()

    def approve(index):
        revision = proposals[index][2]
        try:
            barrier.wait(timeout=30)
            moderation.approve(revision=revision, moderator=moderators[index % 4], merge=True)
            merged = ModerationEvent.objects.filter(revision=revision, kind=ModerationEvent.Kind.MERGED).exists()
            outcome = "merged" if merged else "published"
            with lock:
                order.append(index)
        except merging.MergeConflictError:
            outcome = "conflict"
        except merging.StaleRevisionError:
            outcome = "stale"
        except Exception as error:  # noqa: BLE001 - reported below, with its type
            outcome = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        outcomes[index] = outcome

    started = time.monotonic()
    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(proposals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started

    assert len(outcomes) == len(proposals), "an approval hung"
    assert Counter(outcomes.values()) == {"published": 1, "merged": PARAGRAPHS - 1, "conflict": len(OVERLAPPING)}, (
        outcomes
    )

    # Of each overlapping pair exactly one was published: the one that took the lock first.
    winners = {}
    for index in order:
        i, wording, _ = proposals[index]
        assert i not in winners, f"two rewordings of paragraph {i} were both published"
        winners[i] = wording
    assert sorted(winners) == list(range(PARAGRAPHS))
    for index, (i, wording, revision) in enumerate(proposals):
        revision.refresh_from_db()
        if outcomes[index] == "conflict":
            assert winners[i] != wording
            assert revision.status == RevisionStatus.PENDING  # left for a person to resolve
        else:
            assert revision.status == RevisionStatus.PUBLISHED

    # No lost update: the live text is the base with every published rewording, and nothing else.
    section = Section.objects.get(pk=section.pk)
    assert section.body == body(winners)
    published = Revision.objects.filter(pk__in=[proposals[index][2].pk for index in order])
    assert section.live_revision_id == published.latest("decided_at").pk
    for wording in winners.values():
        assert wording in section.body_html
    assert ArticleVersion.objects.filter(article=article).count() == versions_before + PARAGRAPHS
    print(f"{len(proposals)} concurrent approvals: {Counter(outcomes.values())} in {elapsed:.2f}s")
