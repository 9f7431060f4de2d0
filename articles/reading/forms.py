"""The public site's one form: a reader's "Suggest a correction"."""

from django import forms
from django.utils.translation import gettext_lazy as _


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
