"""Admin forms: validation that names what to fix, and the fields moderation adds."""

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from markdownx.widgets import AdminMarkdownxWidget

from articles.content import figure_files, images
from articles.models import Figure, Source
from articles.publishing import publish, timeline


class MarkdownEditorWidget(AdminMarkdownxWidget):
    """django-markdownx's admin widget with the site's own editor script.

    The package's script traps Tab, pastes "Invalid response" into the text when an upload
    fails and never initialises inline rows added later; ours keeps its attributes and
    endpoints and fixes those.
    """

    class Media:
        extend = False
        css = {"all": ["articles/admin/markdown-editor.css"]}
        # The editor's strings in the admin's language (window.gettext), then the editor.
        js = [reverse_lazy("articles_jsi18n"), "articles/admin/markdown-editor.js"]


class CitationCheckMixin:
    """Unknown citation keys are a form error naming the key, never a broken page."""

    markdown_fields = ("body", "dek", "text")  # "text": timeline events

    def clean(self):
        cleaned = super().clean()
        for name in self.markdown_fields:
            if isinstance(cleaned.get(name), str):
                # Browsers send CRLF from text areas; stored text uses LF so diffs and merges see
                # only real changes.
                cleaned[name] = cleaned[name].replace("\r\n", "\n").replace("\r", "\n")
            if name in self.fields and cleaned.get(name):
                errors = publish.citation_errors(cleaned[name])
                # --- Timeline embeds in section text (articles.publishing.timeline) ---
                if name == "body":
                    errors += timeline.directive_errors(cleaned[name])
                if errors:
                    self.add_error(name, errors)
        return cleaned


class BaseRevisionMixin(forms.Form):
    """Carries the live revision the editor saw, so a later approval can tell a stale edit."""

    base_revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk and "base_revision" not in self.initial:
            self.initial["base_revision"] = instance.live_revision_id


class InlineModelForm(BaseRevisionMixin, CitationCheckMixin, forms.ModelForm):
    """Rows edited inside another object's form share that form's edit summary."""


class ModeratedModelForm(BaseRevisionMixin, CitationCheckMixin, forms.ModelForm):
    """Every moderated admin form: the content fields plus the change's own fields."""

    edit_summary = forms.CharField(
        label=_("Edit summary"),
        max_length=300,
        help_text=_("Required. One line for the reviewer: what you changed and why."),
        widget=forms.TextInput(attrs={"size": 80, "autocomplete": "off"}),
        error_messages={"required": _("Write a short edit summary: what did you change, and why?")},
    )
    publish_now = forms.BooleanField(
        label=_("Publish now"),
        required=False,
        # Unticked by default: publishing without review is a choice, never an accident.
        initial=False,
        help_text=_("Moderators only: tick to publish at once, without waiting for review."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publish_now"):
            # Published now, the text would show an image readers may not see yet: say which.
            for name in self.markdown_fields:
                if name in self.fields and cleaned.get(name):
                    errors = publish.unapproved_figure_errors(cleaned[name])
                    if errors:
                        self.add_error(name, errors)
        return cleaned


class AuthorsField(forms.CharField):
    """Authors typed one per line, stored as a JSON list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def has_changed(self, initial, data):
        return self.to_python(initial or []) != self.to_python(data)


class SourceForm(ModeratedModelForm):
    authors = AuthorsField(
        label=_("Authors"),
        required=False,
        help_text=_("One person per line, as “First Last”. Leave empty when an organisation is the author."),
    )

    class Meta:
        model = Source
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin chooses the fields


class NormalisedImageField(forms.ImageField):
    """A new upload checked and re-encoded by ``articles.content.images`` before anything else looks at it.

    Django's own check would answer "not an image or a corrupted image" to a decompression bomb
    or an oversized photo, and refuse a real JPEG for its ".html" name; ``normalise_image`` says
    what is wrong, and the stored name takes its extension from the detected format.
    """

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        normalised = images.normalise_image(upload)
        return normalised.as_content_file(getattr(upload, "name", "figure").rsplit(".", 1)[0])


class _StaffImageLink:
    """The current image as the file widget shows it, linked where staff can see it."""

    def __init__(self, name: str):
        self.name = name
        self.url = reverse("pending_figure_image", args=[name])

    def __str__(self):
        return self.name


class FigureImageInput(AdminFileWidget):
    """The admin's file input; a current image that waits for approval links to the staff view (its
    public address answers 404 until then)."""

    def format_value(self, value):
        value = super().format_value(value)
        if value and figure_files.is_pending(getattr(value, "name", "")):
            return _StaffImageLink(value.name)
        return value


class FigureForm(ModeratedModelForm):
    class Meta:
        model = Figure
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin chooses the fields
        field_classes = {"image": NormalisedImageField}
        widgets = {"image": FigureImageInput}


class RequestChangesForm(forms.Form):
    message = forms.CharField(
        label=_("What should change"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required. The author sees it on the review page and in their e-mail."),
    )

    def clean_message(self):
        message = self.cleaned_data["message"].strip()
        if not message:
            raise ValidationError(_("Say what should change: the author will see it."))
        return message


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required. The author sees it in their e-mail and in the history."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give a reason: the author will see it."))
        return reason


class ApproveForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish later (optional, UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to publish now."),
    )
    merge = forms.BooleanField(required=False, widget=forms.HiddenInput)
    with_figures = forms.BooleanField(
        label=_("Approve the figures it shows with it (they are not published yet)"),
        required=False,
    )
    override_stale = forms.BooleanField(
        label=_("I have read the newer changes; publish this proposal as it is, over them."),
        required=False,
    )
