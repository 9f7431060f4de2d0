"""The public site's forms: a reader's "Suggest a correction", an outside reviewer's comment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from articles.models import COMMENT_MAX_LENGTH, QUOTE_MAX_LENGTH


class CorrectionForm(forms.Form):
    """The public "Suggest a correction" form. ``website`` is a honeypot: people never see it."""

    problem = forms.CharField(label=_("What is wrong?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    suggested_text = forms.CharField(
        label=_("Suggested text (optional)"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    source_reference = forms.CharField(
        label=_("A source for it (optional)"),
        max_length=500,
        required=False,
        help_text=_("A book, document or web address that supports the correction."),
    )
    email = forms.EmailField(
        label=_("Your e-mail (optional)"),
        required=False,
        help_text=_("Only to tell you what the editors decided. Never shown or shared."),
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_spam(self):
        return bool(self.cleaned_data.get("website"))


class OutsideCommentForm(forms.Form):
    """An outside reviewer's comment on the share page. ``website`` is a honeypot: people never see it."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(
        label=_("Your e-mail"), help_text=_("For the editors to answer you. Never shown or shared.")
    )
    revision = forms.TypedChoiceField(label=_("Which change is it about?"), coerce=int)
    quote = forms.CharField(
        label=_("The passage you comment on (optional)"),
        max_length=QUOTE_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Copy the words from the proposed text above and paste them here."),
    )
    body = forms.CharField(
        label=_("Your comment"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, revisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revision"].choices = [(r.pk, f"{r.action_phrase} “{r.object_repr}”") for r in revisions]
        if len(revisions) == 1:
            self.fields["revision"].initial = revisions[0].pk
            self.fields["revision"].widget = forms.HiddenInput()

    @property
    def is_spam(self):
        return bool(self.cleaned_data.get("website"))
