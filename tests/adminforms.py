"""Build the POST data a browser would send for an admin change form, from its GET response."""

from django import forms


def _value(field, value):
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple)):
        return [getattr(v, "pk", v) for v in value]
    if isinstance(value, bool):
        return "on" if value else ""
    prepared = field.prepare_value(value)
    return "" if prepared is None else prepared


def _form_values(form):
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name, field.initial)
        if callable(value):
            value = value()
        if not value and isinstance(field, forms.ModelMultipleChoiceField):
            continue
        value = _value(field, value)
        if value in ("", []) and getattr(field.widget, "input_type", "") == "checkbox" or value == []:
            continue  # an unticked box or an empty multiple choice sends nothing
        data[form.add_prefix(name)] = value
    return data


def admin_form_data(response, **changes):
    """All fields of the admin form in ``response``, as initially shown, with ``changes`` applied."""
    context = response.context
    data = _form_values(context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[management.add_prefix(name)] = management.initial.get(name, management[name].value())
        for form in formset.initial_forms:
            data.update(_form_values(form))
            if form.instance.pk:
                data[form.add_prefix(formset.model._meta.pk.name)] = form.instance.pk
                data[form.add_prefix(formset.fk.name)] = formset.instance.pk
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
