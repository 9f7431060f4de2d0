"""Content and revision models.

Live content (Article, Section, Topic, Source, Figure) is what readers see. Every change to it
is a Revision: a JSON snapshot of the proposed fields plus the revision it was based on.
Publishing (articles.publishing.publish) applies a revision in one transaction and moves the object's
``live_revision`` pointer; nothing here writes live content on its own.

The models live in the modules of this package, by concern; every one is importable from here.
"""

from articles.models.addresses import RetiredSlug, RetiredSlugQuerySet
from articles.models.api_tokens import ApiToken, ApiTokenQuerySet
from articles.models.base import ModeratedContent, ModeratedQuerySet, PublicationState
from articles.models.comments import COMMENT_MAX_LENGTH, QUOTE_MAX_LENGTH, ReviewComment, ShareLink
from articles.models.content import (
    Article,
    Citation,
    Figure,
    Section,
    SectionQuerySet,
    TimelineEvent,
    TimelineEventQuerySet,
    Topic,
    TopicLink,
)
from articles.models.reading import (
    ArticleVersion,
    CorrectionStatus,
    CorrectionSuggestion,
    Mention,
    MentionQuerySet,
    SearchEntry,
    SearchEntryKind,
    VersionSection,
)
from articles.models.revisions import (
    FollowUp,
    ModerationEvent,
    Revision,
    RevisionAction,
    RevisionStatus,
)
from articles.models.sources import Source, SourceKind, SourceQuerySet
from articles.models.workflows import WORKFLOW_KINDS, Workflow, WorkflowAssignment, WorkflowStep

MODERATED_MODELS = (Article, Section, Topic, Source, Figure, TimelineEvent)

__all__ = [
    "COMMENT_MAX_LENGTH",
    "MODERATED_MODELS",
    "ApiToken",
    "ApiTokenQuerySet",
    "QUOTE_MAX_LENGTH",
    "Article",
    "ArticleVersion",
    "Citation",
    "CorrectionStatus",
    "CorrectionSuggestion",
    "Figure",
    "FollowUp",
    "Mention",
    "MentionQuerySet",
    "ModeratedContent",
    "ModeratedQuerySet",
    "ModerationEvent",
    "PublicationState",
    "RetiredSlug",
    "RetiredSlugQuerySet",
    "ReviewComment",
    "Revision",
    "RevisionAction",
    "RevisionStatus",
    "SearchEntry",
    "ShareLink",
    "SearchEntryKind",
    "Section",
    "SectionQuerySet",
    "Source",
    "SourceKind",
    "SourceQuerySet",
    "TimelineEvent",
    "TimelineEventQuerySet",
    "Topic",
    "VersionSection",
    "TopicLink",
    "WORKFLOW_KINDS",
    "Workflow",
    "WorkflowAssignment",
    "WorkflowStep",
]
