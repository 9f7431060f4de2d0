"""The demo content, as data: one article with its sections, topics, sources and lead figure.

Written by the team for the demo (no sentence is taken from elsewhere). Every fact comes from
the team's list of verified facts and is cited to the source that states it; where the list has
nothing, the text stays general and uncited. ``python manage.py load_demo`` publishes all of it through
the moderation services.

The lead figure is drawn here with Pillow when the demo is loaded, so no binary is committed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

ACCESSED_ON = datetime.date(2026, 11, 1)

# --- Sources -------------------------------------------------------------------------------
# Keys are what the section bodies cite as [@key]. Dates carry only the precision the source
# gives (year, month or day); press releases keep their UN symbol as the identifier.

SOURCES: list[dict] = [
    {
        "key": "unsc-res-2100",
        "kind": "un_document",
        "title": "Resolution 2100 (2013)",
        "publisher": "United Nations Security Council",
        "date_year": 2013,
        "date_month": 4,
        "date_day": 25,
        "identifier": "S/RES/2100 (2013)",
        "url": "https://lawglobalhub.com/united-nations-security-council-resolution-2100-mali",
        "accessed_on": ACCESSED_ON,
        "notes": "The URL is a reproduction of the text; the official document is S/RES/2100 (2013).",
    },
    {
        "key": "minusma-mandate",
        "kind": "web",
        "title": "Mandat de la Mission",
        "publisher": "MINUSMA",
        "url": "https://minusma.unmissions.org/mandat-0",
        "accessed_on": ACCESSED_ON,
        "notes": "In French. The page gives no publication date.",
    },
    {
        "key": "sc-11453",
        "kind": "web",
        "title": "Press release on Security Council resolution 2164 (2014), extending MINUSMA's mandate",
        "publisher": "United Nations",
        "date_year": 2014,
        "date_month": 6,
        "date_day": 25,
        "identifier": "SC/11453",
        "url": "https://press.un.org/en/2014/sc11453.doc.htm",
        "accessed_on": ACCESSED_ON,
        "notes": "Descriptive title: replace it with the release's own headline when checking the URL.",
    },
    {
        "key": "sc-13400",
        "kind": "web",
        "title": "Press release on Security Council resolution 2423 (2018), extending MINUSMA's mandate",
        "publisher": "United Nations",
        "date_year": 2018,
        "date_month": 6,
        "date_day": 28,
        "identifier": "SC/13400",
        "url": "https://press.un.org/en/2018/sc13400.doc.htm",
        "accessed_on": ACCESSED_ON,
        "notes": "Descriptive title: replace it with the release's own headline when checking the URL.",
    },
    {
        "key": "unsc-res-2690",
        "kind": "web",
        "title": "The Situation in Mali - Security Council, 9365th Meeting",
        "publisher": "United Nations",
        "container_title": "UN Audiovisual Library",
        "date_year": 2023,
        "date_month": 6,
        "date_day": 30,
        "url": "https://media.un.org/avlibrary/en/asset/d306/d3067286",
        "accessed_on": ACCESSED_ON,
        "notes": "Recording of the meeting that adopted resolution 2690 (2023).",
    },
    {
        "key": "g5-withdrawal-2022",
        "kind": "news",
        "title": "Mali withdraws from G5 Sahel",
        "publisher": "Xinhua",
        "container_title": "Big News Network",
        "date_year": 2022,
        "date_month": 5,
        "date_day": 16,
        "notes": "Xinhua report carried by Big News Network. No URL recorded.",
    },
    {
        "key": "ecowas-66th-summit",
        "kind": "news",
        "title": "ECOWAS 66th summit communiqué",
        "publisher": "ECOWAS",
        "container_title": "The Nation (Nigeria)",
        "date_year": 2024,
        "date_month": 12,
        "notes": "The communiqué as reported by The Nation (Nigeria). No URL recorded.",
    },
    {
        "key": "mali-independence",
        "kind": "other",
        "title": "Mali (general encyclopaedia entry)",
        "notes": "General reference: any encyclopaedia entry on Mali gives the date of independence.",
    },
]

# --- Topics --------------------------------------------------------------------------------

TOPICS: list[dict] = [
    {
        "slug": "minusma",
        "name": "MINUSMA",
        "summary": "The UN stabilisation mission in Mali, created in 2013 and closed in 2023.",
        "body": (
            "MINUSMA is short for the United Nations Multidimensional Integrated Stabilization "
            "Mission in Mali. The Security Council set it up in April 2013[@unsc-res-2100] and "
            "brought its mandate to an end in June 2023.[@unsc-res-2690]"
        ),
    },
    {
        "slug": "g5-sahel",
        "name": "G5 Sahel",
        "summary": "A five-country Sahel grouping founded in 2014, with a joint force from 2017.",
        "body": (
            "The five founding states were Burkina Faso, Chad, Mali, Mauritania and Niger. "
            "Mali announced its departure from the grouping in May 2022.[@g5-withdrawal-2022]"
        ),
    },
    {
        "slug": "ecowas",
        "name": "ECOWAS",
        "summary": "The regional organisation that Mali, Burkina Faso and Niger left with effect from January 2025.",
        "body": (
            "The three Sahel states made their intention to leave known in January 2024; the "
            "organisation's leaders then fixed the date on which the departure took effect."
            "[@ecowas-66th-summit]"
        ),
    },
    {
        "slug": "alliance-of-sahel-states",
        "name": "Alliance of Sahel States",
        "summary": "A collective-defence pact formed in 2023 by Mali, Burkina Faso and Niger.",
        "body": (
            "Known by its initials, AES, the alliance links the three countries for their common "
            "defence.[@ecowas-66th-summit]"
        ),
    },
    {
        "slug": "un-security-council",
        "name": "UN Security Council",
        "summary": "The UN body whose resolutions created, extended and ended MINUSMA's mandate.",
        "body": (
            "Four of its resolutions mark the life of the Mali mission:\n\n"
            "- 2100 (2013), which created it;[@unsc-res-2100]\n"
            "- 2164 (2014) and 2423 (2018), two of the extensions;[@sc-11453; @sc-13400]\n"
            "- 2690 (2023), which closed it.[@unsc-res-2690]"
        ),
    },
    {
        "slug": "civil-military-relations",
        "name": "Civil-military relations",
        "summary": "How armed forces, foreign and national, relate to the civilian authorities that call on them.",
        "body": (
            "This topic gathers the parts of the history in which Mali's own authorities decided "
            "whether outside forces should come or go. Both of the requests in this article, for "
            "French help in 2013 and for the UN mission's departure in 2023, came from transitional "
            "authorities.[@unsc-res-2100; @unsc-res-2690]"
        ),
    },
]

# --- The article ---------------------------------------------------------------------------

ARTICLE: dict = {
    "title": "Mali's Military Deployments: A Short History",
    "slug": "malis-military-deployments",
    "dek": (
        "Since 2013 Mali has hosted a French intervention and a United Nations mission, belonged "
        "to a five-country joint force, and then stepped away from one regional framework after "
        "another. This short history follows those arrangements in order, keeping to dates and "
        "figures that can be checked."
    ),
}


# The edit summary of the article's first published version, which also holds the sections
# marked ``first_version``; each later section is a version of its own, with its own summary.
ARTICLE_SUMMARY = "First version: introduction, background, the 2013 intervention and the creation of MINUSMA"


@dataclass(frozen=True)
class DemoSection:
    anchor: str
    title: str
    body: str
    summary: str  # the edit summary readers see in the article's history
    topics: tuple[str, ...] = ()
    parent: str | None = None  # the anchor of the main section this one belongs under
    first_version: bool = False  # published with the article, in its version 1


SECTIONS: list[DemoSection] = [
    DemoSection(
        anchor="background",
        summary="Background: independence in 1960 and the scope of the article",
        first_version=True,
        title="Background: an independent state since 1960",
        topics=("civil-military-relations",),
        body="""\
Mali has been independent since 22 September 1960.[@mali-independence] Everything this article
describes happened more than half a century later, from 2013 onwards.

The scope is deliberately narrow. Rather than a full account of the country's armed forces or of
its politics, what follows traces a single thread: the foreign and multinational forces Mali has
hosted, the regional security bodies it has joined, and the moments when it chose to leave them.
""",
    ),
    DemoSection(
        anchor="french-intervention-and-afisma",
        summary="The French intervention and AFISMA in 2013, cited to resolution 2100",
        first_version=True,
        title="2013: French forces and AFISMA",
        topics=("un-security-council", "civil-military-relations"),
        body="""\
French troops went into action in Mali in January 2013. They came because Mali's transitional
authorities had asked them to, and a few months later the Security Council welcomed both their
intervention and the AFISMA contingents in the very resolution that set up a UN
mission.[@unsc-res-2100, preamble]

The order is worth keeping in mind: the request for help came from Mali's own authorities,
and the UN framework followed it.
""",
    ),
    DemoSection(
        anchor="minusma",
        summary="MINUSMA: its creation, first aims and four key dates",
        first_version=True,
        title="MINUSMA, 2013–2023",
        topics=("minusma", "un-security-council"),
        body="""\
With resolution 2100, adopted on 25 April 2013, the Security Council created the United Nations
Multidimensional Integrated Stabilization Mission in Mali, better known as
MINUSMA.[@unsc-res-2100] Its deployment began on 1 July 2013. At first the mission was meant to
help make the main towns secure again and to bring back the authority of the
State.[@minusma-mandate]

The mission's life can be read from four dates:

- **25 April 2013**: the Council creates it;[@unsc-res-2100]
- **1 July 2013**: its deployment starts;[@minusma-mandate]
- **30 June 2023**: the Council ends its mandate;[@unsc-res-2690]
- **31 December 2023**: the deadline for its withdrawal.[@unsc-res-2690]
""",
    ),
    DemoSection(
        anchor="mandate-renewals",
        summary="Add the 2014 and 2018 mandate extensions with their personnel ceilings",
        title="Extensions and personnel ceilings",
        parent="minusma",
        topics=("minusma", "un-security-council"),
        body="""\
The 2013 mandate was not open-ended, and the Council prolonged it by later resolutions. Two of
those extensions, four years apart, are set side by side here, with the personnel ceilings each
one fixed.

| Resolution | Year | Mandate runs to | Troops | Police |
|:-----------|-----:|:----------------|-------:|-------:|
| 2164[@sc-11453] | 2014 | 30 June 2015 | 11,200 | 1,440 |
| 2423[@sc-13400] | 2018 | 30 June 2019 | 13,289 | 1,920 |

Between the two, the authorised strength grew by 2,089 troops and 480 police. The 2018 text
also gave the mission a new priority: backing the 2015 Agreement on Peace and Reconciliation in
Mali.[@sc-13400]
""",
    ),
    DemoSection(
        anchor="g5-sahel",
        summary="Add the G5 Sahel and its joint force, up to Mali's withdrawal in 2022",
        title="The G5 Sahel and its joint force",
        topics=("g5-sahel",),
        body="""\
While the UN mission was at work, Mali also took part in a regional grouping. Burkina Faso,
Chad, Mali, Mauritania and Niger founded the G5 Sahel in 2014, and in 2017 the five launched a
joint force.[@g5-withdrawal-2022]

That membership ended in 2022. On 15 May of that year Mali said it was pulling out of every G5
Sahel body, the joint force among them.[@g5-withdrawal-2022]
""",
    ),
    DemoSection(
        anchor="end-of-minusma",
        summary="Add the end of MINUSMA: resolution 2690 and the withdrawal deadline",
        title="The end of the UN mission",
        topics=("minusma", "un-security-council", "civil-military-relations"),
        body="""\
In 2023 the transitional government wrote to the Security Council to ask that MINUSMA leave the
country; its letter was circulated as document S/2023/463. On 30 June 2023 the Council replied
with resolution 2690. The vote was unanimous, and the mandate expired that same
day.[@unsc-res-2690]

Ending a mandate and leaving a country are different steps. The resolution allowed until
31 December 2023 for the withdrawal to be completed, with the liquidation of the mission
starting on 1 January 2024.[@unsc-res-2690]
""",
    ),
    DemoSection(
        anchor="leaving-ecowas",
        summary="Add Mali's departure from ECOWAS, effective January 2025",
        title="Leaving ECOWAS",
        topics=("ecowas", "alliance-of-sahel-states"),
        body="""\
On 28 January 2024, Mali, Burkina Faso and Niger announced their withdrawal from ECOWAS. At its
66th summit, in December 2024, the organisation named 29 January 2025 as the day their exit
took effect, and allowed a transition period lasting until 29 July 2025.[@ecowas-66th-summit]
""",
    ),
    DemoSection(
        anchor="alliance-of-sahel-states",
        summary="Add the Alliance of Sahel States, under the ECOWAS section",
        title="The Alliance of Sahel States",
        parent="leaving-ecowas",
        topics=("alliance-of-sahel-states",),
        body="""\
By the time of that announcement the three countries already had an alliance of their own. They
had formed the Alliance of Sahel States, or AES, in 2023, with collective defence as its
purpose.[@ecowas-66th-summit] Seen in that light, the break with ECOWAS confirmed a realignment
that had begun the year before.
""",
    ),
    DemoSection(
        anchor="in-outline",
        summary="Add a closing overview of the twelve years",
        title="Twelve years in outline",
        topics=("minusma", "g5-sahel", "ecowas", "alliance-of-sahel-states"),
        body="""\
In 2013 the frameworks around Mali's security were international: a French operation, the
AFISMA contingents and, from July, a UN stabilisation mission. Between 2022 and 2025 Mali
stepped back from three such arrangements in turn, the G5 Sahel, MINUSMA and ECOWAS, while
building a three-country alliance with Burkina Faso and Niger.[@g5-withdrawal-2022;
@unsc-res-2690; @ecowas-66th-summit]

The timeline at the top of this page sets the same sequence out at a glance.
""",
    ),
]

# --- Timeline events (articles.publishing.timeline) ----------------------------------------------------
# The same verified facts as the article, one dated event each, with only the precision the
# source gives. Published before the article, so publishing them re-renders nothing.

TIMELINE_EVENTS: list[dict] = [
    {
        "title": "Independence",
        "date_year": 1960,
        "date_month": 9,
        "date_day": 22,
        "text": "Mali becomes an independent state.[@mali-independence]",
        "topics": (),
    },
    {
        "title": "French forces intervene",
        "date_year": 2013,
        "date_month": 1,
        "text": "French troops go into action at the request of Mali's transitional authorities.[@unsc-res-2100]",
        "topics": ("civil-military-relations",),
    },
    {
        "title": "MINUSMA created",
        "date_year": 2013,
        "date_month": 4,
        "date_day": 25,
        "text": "Security Council resolution 2100 sets up the UN stabilisation mission and welcomes the French "
        "intervention and the AFISMA troops.[@unsc-res-2100]",
        "topics": ("minusma", "un-security-council"),
    },
    {
        "title": "MINUSMA deploys",
        "date_year": 2013,
        "date_month": 7,
        "date_day": 1,
        "text": "The mission's first aim is to make the main towns secure and restore the authority of the "
        "State.[@minusma-mandate]",
        "topics": ("minusma",),
    },
    {
        "title": "G5 Sahel founded",
        "date_year": 2014,
        "text": "Burkina Faso, Chad, Mali, Mauritania and Niger form the grouping.[@g5-withdrawal-2022]",
        "topics": ("g5-sahel",),
    },
    {
        "title": "Mandate extended to June 2015",
        "date_year": 2014,
        "text": "Resolution 2164 sets ceilings of 11,200 military and 1,440 police personnel.[@sc-11453]",
        "topics": ("minusma", "un-security-council"),
    },
    {
        "title": "G5 Sahel joint force launched",
        "date_year": 2017,
        "text": "The five member states launch a joint force.[@g5-withdrawal-2022]",
        "topics": ("g5-sahel",),
    },
    {
        "title": "Mandate extended to June 2019",
        "date_year": 2018,
        "text": "Resolution 2423 keeps 13,289 troops and 1,920 police, and makes support for the 2015 Agreement "
        "on Peace and Reconciliation in Mali a priority.[@sc-13400]",
        "topics": ("minusma", "un-security-council"),
    },
    {
        "title": "Mali leaves the G5 Sahel",
        "date_year": 2022,
        "date_month": 5,
        "date_day": 15,
        "text": "Mali withdraws from every organ of the grouping, the joint force included.[@g5-withdrawal-2022]",
        "topics": ("g5-sahel",),
    },
    {
        "title": "Alliance of Sahel States formed",
        "date_year": 2023,
        "text": "Mali, Burkina Faso and Niger join together for their collective defence.[@ecowas-66th-summit]",
        "topics": ("alliance-of-sahel-states",),
    },
    {
        "title": "MINUSMA's mandate ends",
        "date_year": 2023,
        "date_month": 6,
        "date_day": 30,
        "text": "At the transitional government's request (letter S/2023/463), the Security Council ends the "
        "mandate by a unanimous vote on resolution 2690.[@unsc-res-2690]",
        "topics": ("minusma", "un-security-council", "civil-military-relations"),
    },
    {
        "title": "Withdrawal deadline",
        "date_year": 2023,
        "date_month": 12,
        "date_day": 31,
        "text": "The date by which the mission's withdrawal was to be complete; its liquidation starts the next "
        "day.[@unsc-res-2690]",
        "topics": ("minusma",),
    },
    {
        "title": "Three states announce they are leaving ECOWAS",
        "date_year": 2024,
        "date_month": 1,
        "date_day": 28,
        "text": "Mali, Burkina Faso and Niger announce their withdrawal.[@ecowas-66th-summit]",
        "topics": ("ecowas", "alliance-of-sahel-states"),
    },
    {
        "title": "ECOWAS fixes the date of the exit",
        "date_year": 2024,
        "date_month": 12,
        "text": "At its 66th summit the organisation sets 29 January 2025 for the withdrawal to take effect, with "
        "a transition period to 29 July 2025.[@ecowas-66th-summit]",
        "topics": ("ecowas",),
    },
    {
        "title": "ECOWAS exit takes effect",
        "date_year": 2025,
        "date_month": 1,
        "date_day": 29,
        "text": "The three states' withdrawal from ECOWAS takes effect.[@ecowas-66th-summit]",
        "topics": ("ecowas", "alliance-of-sahel-states"),
    },
]
