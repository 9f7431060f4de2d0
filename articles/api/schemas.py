"""What the API says, as schemas: the OpenAPI document is generated from these, and every answer is checked against them.

Read schemas carry only published content, as stored when it was published (``*_html`` fields
are the site's own sanitised fragments, with links relative to the site). Proposal schemas say
what a program may propose; a field left out keeps its published value.
"""

from __future__ import annotations

import datetime

from ninja import Field, Schema
from pydantic import ConfigDict


class Page[Item](Schema):
    """One page of a list. ``next`` and ``previous`` are the addresses of the neighbouring pages, or null."""

    count: int = Field(description="How many items the whole list has.")
    page: int
    page_size: int
    next: str | None
    previous: str | None
    results: list[Item]


class Problem(Schema):
    """An error: what went wrong, and for bad input each field's messages."""

    detail: str
    errors: dict[str, list[str]] | None = Field(None, description="Messages for each field that was refused.")


# --- Reading ----------------------------------------------------------------------------------------


class TopicRef(Schema):
    slug: str
    name: str


class ArticleSummary(Schema):
    slug: str
    title: str
    dek_html: str = Field(description="The introduction, as HTML.")
    published_at: datetime.datetime | None
    url: str = Field(description="The article's public page.")
    api_url: str


class Article(ArticleSummary):
    sections_url: str
    versions_url: str


class Note(Schema):
    number: int = Field(description="The note's number within the section.")
    key: str = Field(description="The citation key of the source cited.")
    locator: str = Field(description="The place cited, e.g. “p. 4”.")
    source_url: str | None = Field(description="The source in the API, or null for a key no source has.")


class Section(Schema):
    id: int
    article: str = Field(description="The slug of the article the section is in.")
    anchor: str
    title: str
    level: int = Field(description="2 for a main section, 3 for a subsection.")
    parent: int | None = Field(description="The main section this one is a subsection of.")
    position: int
    html: str = Field(description="The text as HTML; note markers link to the notes listed in ``notes``.")
    notes: list[Note]
    topics: list[TopicRef]
    url: str
    api_url: str


class Author(Schema):
    name: str


class Source(Schema):
    key: str
    kind: str
    title: str
    authors: list[str]
    publisher: str
    container_title: str
    date: str = Field(description="“2013”, “2013-04” or “2013-04-25”: as precise as is known; empty when unknown.")
    url: str
    accessed_on: datetime.date | None
    identifier: str
    note_html: str = Field(description="The note, Chicago style, as HTML.")
    bibliography_html: str = Field(description="The bibliography entry, Chicago style, as HTML.")
    page_url: str
    api_url: str
    csl_url: str


class Topic(Schema):
    slug: str
    name: str
    summary: str
    description_html: str
    url: str
    api_url: str


class TimelineEvent(Schema):
    id: int
    title: str
    date: str = Field(description="“2013”, “2013-04” or “2013-04-25”: as precise as is known.")
    text_html: str
    topics: list[TopicRef]
    url: str
    api_url: str


class VersionSummary(Schema):
    number: int
    title: str
    published_at: datetime.datetime
    editor: str
    summary: str = Field(description="The edit summary of the change that made this version.")
    url: str = Field(description="The permalink.")
    api_url: str


class VersionSection(Schema):
    anchor: str
    title: str
    level: int
    html: str
    topics: list[TopicRef]


class Version(VersionSummary):
    article: str
    dek_html: str
    sections: list[VersionSection]
    notes_html: str
    bibliography_html: str


# --- Proposing ------------------------------------------------------------------------------------


class ProposalFields(Schema):
    # A misspelt field is an error, not a change silently left out.
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="Required: what you changed and why, for the moderator.", max_length=300)
    base_revision: int | None = Field(
        None,
        description="The live revision your change starts from (``live_revision`` as you read it). When the "
        "content changed since, the moderator sees both and the changes are merged or reconciled.",
    )


class SectionChange(ProposalFields):
    title: str | None = None
    anchor: str | None = None
    position: int | None = None
    parent: int | None = Field(None, description="The id of a main section of the same article; 0 for none.")
    body: str | None = Field(None, description="Markdown. Cite sources as [@key] or [@key, p. 4].")
    topics: list[str] | None = Field(None, description="Topic slugs; the list replaces the section's topics.")


class SourceFields(ProposalFields):
    kind: str | None = None
    title: str | None = None
    authors: list[str] | None = None
    publisher: str | None = None
    container_title: str | None = None
    date_year: int | None = None
    date_month: int | None = None
    date_day: int | None = None
    url: str | None = None
    accessed_on: datetime.date | None = None
    identifier: str | None = None
    notes: str | None = None


class SourceChange(SourceFields):
    key: str | None = Field(None, description="A new citation key; the old one keeps working as an address.")


class NewSource(SourceFields):
    key: str = Field(description="The citation key, e.g. unsc-res-2100.")
    title: str


class TopicChange(ProposalFields):
    name: str | None = None
    slug: str | None = None
    summary: str | None = None
    body: str | None = Field(None, description="Markdown. Cite sources as [@key].")


class TimelineEventChange(ProposalFields):
    title: str | None = None
    date_year: int | None = None
    date_month: int | None = None
    date_day: int | None = None
    text: str | None = Field(None, description="Markdown. Cite sources as [@key].")
    topics: list[str] | None = Field(None, description="Topic slugs; the list replaces the event's topics.")


class Proposal(Schema):
    id: int
    kind: str = Field(description="section, source, topic or timelineevent.")
    action: str = Field(description="create or change.")
    status: str = Field(description="pending until a moderator approves (published) or rejects it (rejected).")
    object: str
    summary: str
    decision_note: str = Field(description="The moderator's reason, for a rejected proposal.")
    created_at: datetime.datetime
    api_url: str
