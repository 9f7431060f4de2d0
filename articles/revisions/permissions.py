"""Who may propose and who may moderate: the one place the permissions are read."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User


def can_propose(user: User | AnonymousUser | None) -> bool:
    return bool(user and user.is_active and (user.has_perm("articles.propose_revision") or can_moderate(user)))


def can_moderate(user: User | AnonymousUser | None) -> bool:
    return bool(user and user.is_active and user.has_perm("articles.moderate_revision"))


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
