"""The demo article's lead figure: a timeline of the arrangements it describes, drawn with Pillow."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

# --- The lead figure -----------------------------------------------------------------------

FIGURE: dict = {
    "stem": "mali-deployments-timeline-2013-2025",
    "alt_text": (
        "Timeline, 2013 to 2025. UN events above the line: MINUSMA created 25 April 2013, deployed "
        "1 July 2013, extended 2014 and 2018, ended 30 June 2023. Regional events below: G5 Sahel "
        "founded 2014, joint force 2017, Mali leaves 15 May 2022, AES formed 2023, ECOWAS exit "
        "effective 29 January 2025."
    ),
    "caption": "Mali's main international and regional security arrangements, 2013–2025.",
    "credit": "Mali History",
    "licence": "CC BY 4.0",
}


@dataclass(frozen=True)
class TimelineEvent:
    """One labelled marker on the timeline.

    ``tier`` 1 is nearest the axis. Labels run to the right of their line unless ``align`` is
    "right". Tiers and alignment are chosen by hand so that no line crosses another label:
    with left-aligned labels an earlier event sits higher, with right-aligned ones a later one.
    """

    when: float  # fractional year
    date: str
    lines: tuple[str, ...]
    above: bool
    tier: int = 1
    align: str = "left"


def _year(year: int, month: int = 7, day: int = 1) -> float:
    """A date as a fractional year; a year given alone is placed at its middle."""
    return year + (datetime.date(year, month, day).timetuple().tm_yday - 1) / 365


TIMELINE: list[TimelineEvent] = [
    # United Nations, above the axis.
    TimelineEvent(
        _year(2013, 4, 25),
        "25 April 2013",
        ("MINUSMA created (Res. 2100)", "Deployed from 1 July 2013"),
        above=True,
        tier=2,
    ),
    TimelineEvent(_year(2014), "2014", ("Mandate extended", "11,200 troops, 1,440 police"), above=True),
    TimelineEvent(_year(2018), "2018", ("Mandate extended", "13,289 troops, 1,920 police"), above=True),
    TimelineEvent(_year(2023, 6, 30), "30 June 2023", ("Mandate ends", "Resolution 2690"), above=True),
    # Regional organisations, below the axis.
    TimelineEvent(_year(2014), "2014", ("G5 Sahel founded",), above=False),
    TimelineEvent(_year(2017), "2017", ("G5 Sahel joint", "force launched"), above=False),
    TimelineEvent(_year(2022, 5, 15), "15 May 2022", ("Mali leaves G5 Sahel",), above=False, align="right"),
    TimelineEvent(_year(2023), "2023", ("Alliance of Sahel States formed",), above=False, tier=2, align="right"),
    TimelineEvent(
        _year(2025, 1, 29), "29 January 2025", ("ECOWAS exit takes effect",), above=False, tier=3, align="right"
    ),
]

_WIDTH, _HEIGHT = 1600, 640
_BACKGROUND = "#ffffff"
_INK = "#1f2933"
_MUTED = "#4a5561"
_BAR = "#e7e4dd"
_UN = "#1d4e89"
_REGIONAL = "#9c3d1c"
_LINE_HEIGHT = 34
_TIER_STEP_ABOVE, _TIER_STEP_BELOW = 118, 86


def _font(size: int):
    # Pillow >= 10.1 ships a scalable default font, so no system font has to be installed.
    return ImageFont.load_default(size=size)


def draw_timeline() -> bytes:
    """The lead figure as PNG bytes: a 2013–2025 timeline, UN events above the axis, regional below."""
    image = Image.new("RGB", (_WIDTH, _HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, small_font, text_font = _font(38), _font(26), _font(28)

    # The built-in font has no en dash: "to" reads as well.
    draw.text((60, 24), "Mali's security arrangements, 2013 to 2025", font=title_font, fill=_INK)
    legend_x = _WIDTH - 60
    for label, colour in (("Regional (below)", _REGIONAL), ("United Nations (above)", _UN)):
        legend_x -= draw.textlength(label, font=small_font)
        draw.text((legend_x, 32), label, font=small_font, fill=_INK)
        draw.ellipse((legend_x - 28, 37, legend_x - 10, 55), fill=colour)
        legend_x -= 56

    first, last = 2013, 2026
    left, right = 70, _WIDTH - 70
    bar_top, bar_bottom = 322, 360

    def x_of(when: float) -> float:
        return left + (when - first) / (last - first) * (right - left)

    draw.rounded_rectangle((left, bar_top, right, bar_bottom), radius=19, fill=_BAR)
    # Each year's label sits in the middle of its own span, so a date falls inside its year.
    for year in range(first, last):
        if year > first:
            draw.line((x_of(year), bar_top + 8, x_of(year), bar_bottom - 8), fill=_MUTED, width=1)
        draw.text((x_of(year + 0.5), (bar_top + bar_bottom) / 2), str(year), font=small_font, fill=_INK, anchor="mm")

    for event in TIMELINE:
        colour = _UN if event.above else _REGIONAL
        x = x_of(event.when)
        lines = [(event.date, small_font, colour)] + [(text, text_font, _INK) for text in event.lines]
        height = _LINE_HEIGHT * len(lines)
        if event.above:
            top = bar_top - 18 - (event.tier - 1) * _TIER_STEP_ABOVE - height
            draw.line((x, top, x, bar_top), fill=colour, width=3)
            marker_y = bar_top
        else:
            top = bar_bottom + 20 + (event.tier - 1) * _TIER_STEP_BELOW
            draw.line((x, bar_bottom, x, top + height - 6), fill=colour, width=3)
            marker_y = bar_bottom
        draw.ellipse((x - 9, marker_y - 9, x + 9, marker_y + 9), fill=colour, outline=_BACKGROUND, width=3)
        for index, (text, font, fill) in enumerate(lines):
            anchor, text_x = ("ra", x - 12) if event.align == "right" else ("la", x + 12)
            draw.text((text_x, top + index * _LINE_HEIGHT), text, font=font, fill=fill, anchor=anchor)

    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
