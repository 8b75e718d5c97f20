"""Helpers for driving Django admin change forms in tests."""


def change_form_data(response) -> dict[str, str]:
    """The POST data a browser sends for an admin change form as it was rendered: the object's form and its
    inlines' forms, each field only if the page has an input for it (a form's field that is not shown is not
    sent, as in the browser)."""
    page = response.content.decode()
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            if f'name="{field.html_name}"' not in page:
                continue
            value = field.value()
            if value is None or value is False:
                continue  # an unchecked box and an empty field are not sent
            data[field.html_name] = "on" if value is True else str(value)
    return data


def inline_prefix(data: dict[str, str]) -> str:
    """The prefix of the one inline formset in `data`."""
    (name,) = [name for name in data if name.endswith("-TOTAL_FORMS")]
    return name.removesuffix("-TOTAL_FORMS")
