"""The queue's rows (desk.templatetags.desk_queue) are unfold's rows, built once per column: the same cells, the
same classes and links as unfold's own `items_for_result`; and no phrase of unfold's reaches a person in English."""

import datetime as dt
import re
from pathlib import Path

import pytest
import unfold
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext
from unfold.templatetags.unfold_list import items_for_result

from appeals import services
from appeals.models import Appeal
from desk.templatetags import desk_queue
from desk.unfold_messages import UNFOLD_PHRASES
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

QUEUE = "/admin/appeals/appeal/"


def changelist(user, query: dict | None = None):
    request = RequestFactory().get(QUEUE, query or {})
    request.user = user
    model_admin = admin.site._registry[Appeal]
    return model_admin.get_changelist_instance(request)


def test_each_row_is_the_markup_unfold_writes_for_it(world):
    now = timezone.now()
    make_appeal(world.page_a, received_at=now - dt.timedelta(hours=2), text='Текст с <b>тегом</b> & "кавычками"')
    taken = make_appeal(world.page_a, received_at=now - dt.timedelta(hours=1))
    services.appeal_take(actor=world.operator_a, appeal_id=taken.pk)
    Appeal.objects.filter(pk=make_appeal(world.page_a, received_at=now).pk).update(due_at=None)
    rows = []
    with translation.override("ru"):
        for query in ({}, {"status": "all", "q": "Текст"}):
            cl = changelist(world.operator_a, query)
            settled = desk_queue.columns(cl)
            assert cl.result_list, query
            for appeal in cl.result_list:
                ours = str(desk_queue.row(cl, settled, appeal))
                theirs = "".join(items_for_result(cl, appeal, None)).replace('" >', '">')  # an empty popup slot
                # The badge's «time left» moves on between the two calls; everything else is equal.
                assert re.sub(r"\d+ (мин|ч)", "N", ours) == re.sub(r"\d+ (мин|ч)", "N", theirs)
                rows.append(ours)
    assert len(rows) == 4  # three open appeals, then the one the search finds
    assert sum("&lt;b&gt;тегом&lt;/b&gt; &amp; &quot;кавычками&quot;" in row for row in rows) == 2
    assert sum('data-label="Выбрать запись"' in row for row in rows) == 4


def test_the_row_checkbox_is_unfolds_with_the_value_escaped():
    html = str(desk_queue.row_checkbox('1"><script>'))
    assert 'value="1&quot;&gt;&lt;script&gt;"' in html and 'name="_selected_action"' in html
    assert "<script>" not in html


def _unfold_phrases() -> set[str]:
    root = Path(unfold.__file__).parent
    found = set()
    # unfold itself; its contrib packages (import-export, guardian, WYSIWYG, ...) are not installed here.
    # Either quote: `{% trans "…" %}`, `{% trans '…' %}`, and `_("…")` or `_('…')` in code and in templates'
    # arguments (`subtitle=_('Welcome back to')`).
    tag = r"""\{% (?:trans|translate) (?:"([^"]+)"|'([^']+)')"""
    call = r"""\b_\((?:"([^"]+)"|'([^']+)')\)"""
    for template in (root / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        found |= {phrase for match in re.findall(f"{tag}|{call}", text) for phrase in match if phrase}
    for module in (path for path in root.rglob("*.py") if "contrib" not in path.relative_to(root).parts):
        text = module.read_text(encoding="utf-8")
        found |= {phrase for match in re.findall(call, text) for phrase in match if phrase}
    return found


def test_every_phrase_of_unfold_is_russian():
    with translation.override("ru"):
        english = sorted(
            phrase for phrase in _unfold_phrases() if gettext(phrase) == phrase and phrase not in UNFOLD_PHRASES
        )
        assert not english, f"unfold phrases with no Russian: add them to desk/unfold_messages.py: {english}"
        assert all(gettext(phrase) != phrase for phrase in UNFOLD_PHRASES if "%(" not in phrase)


def test_the_queue_page_has_no_english_of_unfolds(client, world):
    make_appeal(world.page_a, received_at=timezone.now())
    client.force_login(world.operator_a)
    page = client.get(QUEUE).content.decode()
    for phrase in ("Select record", "Select action", "Select all rows", "Run", "Reset filters", "Apply Filters"):
        assert f">{phrase}<" not in page and f'"{phrase}"' not in page, phrase
    assert "Выбрать запись" in page and "Выберите действие" in page


def test_the_login_page_has_no_english_of_unfolds(client, db):
    page = client.get("/admin/login/").content.decode()
    for phrase in ("Return to site", "Welcome back to", "Forgotten your password"):
        assert phrase not in page, phrase
    assert "Добро пожаловать в" in page
