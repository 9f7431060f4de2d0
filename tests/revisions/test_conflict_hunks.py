"""A conflicting text, stretch by stretch (articles.revisions.merging.text_hunks / resolve_hunks)."""

import pytest
from django.core.exceptions import ValidationError

from articles.revisions import merging

BASE = "Paragraph one: about 2014.\n\nParagraph two: the force.\n\nParagraph three: many countries.\n"
LIVE = BASE.replace("about 2014", "mid-2014").replace("many countries", "fifty-seven countries")
PROPOSED = BASE.replace("about 2014", "late 2014").replace("the force", "the joint force").replace("many", "over fifty")


def test_hunks_keep_what_merges_and_isolate_each_conflict():
    hunks = merging.text_hunks(BASE, LIVE, PROPOSED)
    conflicts = [h for h in hunks if isinstance(h, merging.ConflictRegion)]
    assert [(c.live, c.proposed) for c in conflicts] == [("mid-2014.", "late 2014."), ("fifty-seven", "over fifty")]
    # The change only the proposal made merges without a question.
    assert "the joint force" in "".join(h for h in hunks if isinstance(h, str))


def test_choosing_a_side_everywhere_gives_that_side_merged_with_the_other_changes():
    hunks = merging.text_hunks(BASE, LIVE, PROPOSED)
    assert merging.resolve_hunks(hunks, ["live", "live"], [None, None]) == LIVE.replace("the force", "the joint force")
    mixed = merging.resolve_hunks(hunks, ["proposed", "both"], [None, "some fifty-seven"])
    assert mixed == BASE.replace("about 2014", "late 2014").replace("the force", "the joint force").replace(
        "many", "some fifty-seven"
    )


@pytest.mark.parametrize("choices", [["live"], ["live", ""], ["live", "mine"]])
def test_every_conflict_needs_a_known_choice(choices):
    hunks = merging.text_hunks(BASE, LIVE, PROPOSED)
    with pytest.raises(ValidationError):
        merging.resolve_hunks(hunks, choices, [None] * len(choices))
