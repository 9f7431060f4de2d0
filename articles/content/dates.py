"""A date known to a year, a month or a day: the one definition, for sources and timeline events.

A source may be dated "2013", "April 2013" or "April 25, 2013"; so may an event. ``PartialDate``
validates the parts together, orders a year before its months and a month before its days,
writes itself in the active language, and gives the ISO form (``2013``, ``2013-04``,
``2013-04-25``) for ``<time datetime>`` and JSON-LD. The models keep the three columns
(``date_year``, ``date_month``, ``date_day``) and the database constraints of
:func:`check_constraints`; their ``date`` property returns a ``PartialDate``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import dateformat, formats
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class PartialDate:
    year: int | None
    month: int | None = None
    day: int | None = None

    def __bool__(self) -> bool:
        return bool(self.year)

    @property
    def sort_key(self) -> tuple:
        """A year alone sorts before its months, a month alone before its days."""
        return (self.year or 0, self.month or 0, self.day or 0)

    def __lt__(self, other: PartialDate) -> bool:
        return self.sort_key < other.sort_key

    def errors(self, *, year_required: bool = False) -> dict[str, str]:
        """What is wrong with the parts, by field name (``date_year``, ``date_month``, ``date_day``)."""
        if year_required and not self.year:
            return {"date_year": _("Give the year.")}
        if self.month is not None and not 1 <= self.month <= 12:
            return {"date_month": _("A month is a number from 1 to 12.")}
        if self.day and not self.month:
            return {"date_month": _("A day needs a month.")}
        if self.month and not self.year:
            return {"date_year": _("A month needs a year.")}
        if self.year and self.month and self.day:
            try:
                datetime.date(self.year, self.month, self.day)
            except ValueError:
                return {"date_day": _("This day does not exist in that month.")}
        return {}

    def validate(self, **kwargs) -> None:
        errors = self.errors(**kwargs)
        if errors:
            raise ValidationError(errors)

    def display(self) -> str:
        """“2013”, “April 2013” or a full date in the active language's one style: “April 25, 2013”
        in English (as Chicago notes write it), « 25 avril 2013 » in French (mali_history/formats).
        Citations are rendered in the content language, so they keep Chicago's order."""
        if not self.year:
            return ""
        if not self.month:
            return str(self.year)
        if not self.day:
            return dateformat.format(datetime.date(self.year, self.month, 1), formats.get_format("YEAR_MONTH_FORMAT"))
        return dateformat.format(datetime.date(self.year, self.month, self.day), formats.get_format("DATE_FORMAT"))

    def iso(self) -> str:
        if not self.year:
            return ""
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
            if self.day:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)


def check_constraints(prefix: str, *, year_required: bool = False) -> list[models.CheckConstraint]:
    """The database's side of :meth:`PartialDate.errors` for a model's three date columns."""
    constraints = [
        models.CheckConstraint(
            condition=Q(date_month__isnull=True) | (Q(date_month__gte=1) & Q(date_month__lte=12)),
            name=f"{prefix}_month_in_range",
        ),
        models.CheckConstraint(
            condition=Q(date_day__isnull=True) | (Q(date_day__gte=1) & Q(date_day__lte=31)),
            name=f"{prefix}_day_in_range",
        ),
        models.CheckConstraint(
            condition=Q(date_day__isnull=True) | Q(date_month__isnull=False),
            name=f"{prefix}_day_needs_month",
        ),
    ]
    if year_required:
        constraints.append(models.CheckConstraint(condition=Q(date_year__gte=1), name=f"{prefix}_year_positive"))
    else:
        constraints.append(
            models.CheckConstraint(
                condition=Q(date_month__isnull=True) | Q(date_year__isnull=False), name=f"{prefix}_month_needs_year"
            )
        )
    return constraints
