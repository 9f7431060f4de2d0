"""The partial date: one definition for sources and timeline events."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from articles.content.dates import PartialDate
from articles.models import Source, TimelineEvent


@pytest.mark.parametrize(
    ("date", "field"),
    [
        (PartialDate(2013, None, 25), "date_month"),
        (PartialDate(None, 4), "date_year"),
        (PartialDate(2013, 2, 30), "date_day"),
        (PartialDate(2013, 13), "date_month"),
    ],
)
def test_impossible_dates_are_refused_with_the_field_named(date, field):
    with pytest.raises(ValidationError) as raised:
        date.validate()
    assert field in raised.value.message_dict


def test_a_year_sorts_before_its_months_and_a_month_before_its_days():
    dates = [PartialDate(2013, 4, 25), PartialDate(2013), PartialDate(2012, 12, 31), PartialDate(2013, 4)]
    assert sorted(dates) == [
        PartialDate(2012, 12, 31),
        PartialDate(2013),
        PartialDate(2013, 4),
        PartialDate(2013, 4, 25),
    ]


def test_display_in_each_language_and_iso():
    date = PartialDate(2013, 4, 25)
    with translation.override("en"):
        assert date.display() == "April 25, 2013"
        assert PartialDate(2013, 4).display() == "April 2013"
    with translation.override("fr"):
        assert date.display() == "25 avril 2013"
        assert PartialDate(2013, 4).display() == "avril 2013"
    assert date.iso() == "2013-04-25" and PartialDate(2013, 4).iso() == "2013-04" and PartialDate(2013).iso() == "2013"
    assert PartialDate(None).display() == "" and not PartialDate(None)


def test_sources_and_events_share_it():
    source = Source(date_year=2013, date_month=4, date_day=25)
    event = TimelineEvent(date_year=2013, date_month=4, date_day=25)
    assert source.date == event.date == PartialDate(2013, 4, 25)
    with translation.override("en"):
        # One date style on a page: the note's and the timeline's alike.
        assert source.date_display == event.date_display == "April 25, 2013"
    with pytest.raises(ValidationError):
        TimelineEvent(title="x", date_year=None).date.validate(year_required=True)
