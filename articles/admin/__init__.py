"""The editors' and moderators' admin.

Every save, add and delete of content goes through ``ModeratedAdmin``, which turns it into a
proposal (or, for a moderator who ticks "Publish now", a revision published at once) through
``articles.revisions.moderation``. Live rows are never written by the admin itself.
"""

# Importing the modules registers their ModelAdmins (Django imports articles.admin at start-up).
from articles.admin import (  # noqa: F401, E402
    api_tokens,
    content,
    corrections,
    review,
    task_admin,
    two_factor_views,
    workflows,
)
