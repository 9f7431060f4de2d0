"""Two moderators approving proposals for the same object at the same instant (PostgreSQL row locks)."""

import threading
import time

import pytest
from django.db import connection, connections

from articles.models import RevisionStatus, Section
from articles.publishing import publish
from articles.revisions import merging, moderation
from tests import factories
from tests.conftest import require_postgres


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approvals_cannot_overwrite_each_other(monkeypatch):
    require_postgres()
    moderators = [factories.make_user(f"moderator{i}", group="Moderator") for i in (1, 2)]
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderators[0], title="Race", slug="race")
    section = factories.section(moderators[0], article, body="Base text.")
    proposals = [
        moderation.propose(
            obj=section,
            author=editor,
            summary=f"Change {i}",
            data={**section.snapshot(), "body": f"Text from proposal {i}."},
        )
        for i in (1, 2)
    ]

    # Hold each publish inside its transaction long enough for the other approval to arrive.
    real_apply = publish.apply_revision

    def slow_apply(revision, obj):
        result = real_apply(revision, obj)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(publish, "apply_revision", slow_apply)
    barrier = threading.Barrier(2)
    outcomes = {}

    def approve(index):
        try:
            barrier.wait()
            started = time.monotonic()
            moderation.approve(revision=proposals[index], moderator=moderators[index])
            outcomes[index] = ("published", time.monotonic() - started)
        except merging.StaleRevisionError:
            outcomes[index] = ("stale", time.monotonic() - started)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    results = sorted(outcome for outcome, _ in outcomes.values())
    assert results == ["published", "stale"]
    loser = next(i for i, (outcome, _) in outcomes.items() if outcome == "stale")
    winner = 1 - loser
    assert outcomes[loser][1] >= 0.4, "the second approval must have waited for the first one's lock"
    section = Section.objects.get(pk=section.pk)
    assert section.body == f"Text from proposal {winner + 1}."
    assert section.live_revision_id == proposals[winner].pk
    proposals[loser].refresh_from_db()
    assert proposals[loser].status == RevisionStatus.PENDING
    assert connection.vendor == "postgresql"
