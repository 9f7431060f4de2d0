"""Reader corrections: anonymous suggestions that reach the moderators' queue.

Submissions are limited per client (through the shared cache, so the limit holds across
processes) and carry a honeypot field; the reader is told the outcome by e-mail, after commit.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.content import clients
from articles.models import CorrectionStatus, CorrectionSuggestion, Revision, Section
from articles.revisions.permissions import can_moderate

RATE_LIMIT = getattr(settings, "CORRECTIONS_PER_HOUR", 5)
WINDOW_SECONDS = 3600


def client_key(request: HttpRequest) -> str:
    """A hash of the client address: enough to limit, nothing worth keeping.

    The address a trusted proxy reported (articles.content.clients): behind nginx or a load
    balancer, REMOTE_ADDR is the proxy's, and every reader would share one limit.
    """
    address = clients.client_address(request)
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]


def check_rate_limit(key: str) -> None:
    if clients.count_hit("corrections", key, WINDOW_SECONDS) > RATE_LIMIT:
        raise ValidationError(
            _("You have sent %(limit)s suggestions in the last hour. Thank you! Please try again later.")
            % {"limit": RATE_LIMIT},
            code="rate_limited",
        )


@transaction.atomic
def submit(
    *,
    section: Section,
    problem: str,
    suggested_text: str = "",
    source_reference: str = "",
    email: str = "",
    client: str,
) -> CorrectionSuggestion:
    check_rate_limit(client)
    suggestion = CorrectionSuggestion(
        section=section,
        problem=problem.strip(),
        suggested_text=suggested_text.strip(),
        source_reference=source_reference.strip(),
        email=email.strip(),
    )
    suggestion.full_clean()
    suggestion.save()
    return suggestion


def _decide(suggestion: CorrectionSuggestion, *, moderator: User, status: str, note: str = "") -> CorrectionSuggestion:

    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators can decide on reader corrections."))
    suggestion.status = status
    suggestion.decided_by = moderator
    suggestion.decided_at = timezone.now()
    suggestion.decision_note = note
    suggestion.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    transaction.on_commit(lambda: tell_reader(suggestion))
    return suggestion


@transaction.atomic
def accept(*, suggestion: CorrectionSuggestion, moderator: User, note: str = "") -> CorrectionSuggestion:
    return _decide(suggestion, moderator=moderator, status=CorrectionStatus.ACCEPTED, note=note)


@transaction.atomic
def dismiss(*, suggestion: CorrectionSuggestion, moderator: User, note: str = "") -> CorrectionSuggestion:
    return _decide(suggestion, moderator=moderator, status=CorrectionStatus.DISMISSED, note=note)


@transaction.atomic
def link_to_proposal(*, suggestion: CorrectionSuggestion, revision: Revision) -> None:
    """The suggestion became an editor's or moderator's proposal; its fate follows the proposal's."""
    suggestion.revision = revision
    suggestion.status = CorrectionStatus.PROPOSED
    suggestion.save(update_fields=["revision", "status"])


def proposal_decided(revision: Revision) -> None:
    """Called by the moderation services when a proposal made from suggestions is decided."""
    for suggestion in CorrectionSuggestion.objects.filter(revision=revision, status=CorrectionStatus.PROPOSED):
        published = revision.status == "published"
        suggestion.status = CorrectionStatus.ACCEPTED if published else CorrectionStatus.DISMISSED
        suggestion.decided_by = revision.decided_by
        suggestion.decided_at = revision.decided_at
        suggestion.decision_note = "" if published else revision.decision_note
        suggestion.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        transaction.on_commit(lambda s=suggestion: tell_reader(s))


def tell_reader(suggestion: CorrectionSuggestion) -> None:
    if not suggestion.email:
        return
    if suggestion.status == CorrectionStatus.ACCEPTED:
        subject = _("Your correction was accepted")
        body = _("Thank you. Your correction to “%(section)s” was accepted and the page has been updated.\n\n%(note)s")
    else:
        subject = _("About your suggested correction")
        body = _(
            "Thank you for your suggestion about “%(section)s”. The editors decided not to change the page.\n\n%(note)s"
        )
    send_mail(
        subject,
        body % {"section": suggestion.section.title, "note": suggestion.decision_note},
        None,
        [suggestion.email],
    )
