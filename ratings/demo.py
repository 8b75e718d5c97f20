"""Demo data of the ratings for `make run`: the MAX channels of regional governments whose audience reproduces
the published reach rating of 1 December 2025 (domain.md section 1), so that

    GET /api/v1/ratings/reach/?platform=max&date=2025-12-01

shows the published top five: Moscow 50,000, Astrakhan 13,000, Kursk 8,000, Komi 7,800 and Chukotka 1,200
subscribers, Chukotka first by penetration. The other demo regions' governments stay below them. Idempotent:
rows are created once and the figures are a pure function of (page, date).
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from core.validators import INN10_WEIGHTS, inn_check_digit
from publics.demo import AUDIENCE_DAYS, DemoRegistry, _webhook_secrets
from publics.models import Organization, OrganizationKind, Page, PageCategory, Platform, Region
from publics.services import audience_snapshots_upsert

RATING_DATE = dt.date(2025, 12, 1)
# Subscribers of each regional government's MAX channel on RATING_DATE: the published top five, then the rest.
PUBLISHED = {
    "RU-MOW": 50_000,
    "RU-AST": 13_000,
    "RU-KRS": 8_000,
    "RU-KO": 7_800,
    "RU-CHU": 1_200,
    "RU-KGD": 1_100,
    "RU-NVS": 950,
    "RU-SVE": 900,
    "RU-PRI": 640,
}
HISTORY_DAYS = 91  # a quarter up to the rating's date: enough for growth over 7 and 30 days
# Regional governments the registry demo does not have: (region, tax-office code, record, name, channel slug).
_EXTRA_GOVERNMENTS = (
    ("RU-KRS", "46", 10701, "Правительство Курской области", "kursk_gov"),
    ("RU-KO", "11", 10801, "Правительство Республики Коми", "rkomi_gov"),
)


def _ogrn(tax: str, record: int) -> str:
    body = f"102{tax}00{record:05d}"
    return body + str(int(body) % 11 % 10)


def _inn(tax: str, record: int) -> str:
    body = f"{tax}00{record:05d}"
    return body + str(inn_check_digit([int(digit) for digit in body], INN10_WEIGHTS))


def _extra_governments() -> list[Page]:
    pages = []
    for code, tax, record, name, slug in _EXTRA_GOVERNMENTS:
        organization = Organization.objects.filter(ogrn=_ogrn(tax, record)).first()
        if organization is None:
            organization = Organization(
                name=name,
                short_name=name,
                kind=OrganizationKind.REGIONAL_GOVERNMENT,
                region=Region.objects.get(code=code),
                ogrn=_ogrn(tax, record),
                inn=_inn(tax, record),
            )
            organization.full_clean()
            organization.save()
        platform_id = str(-68_000_000_000 - record * 11)
        page = Page.objects.filter(platform=Platform.MAX, platform_id=platform_id).first()
        if page is None:
            page = Page.objects.create(
                organization=organization,
                platform=Platform.MAX,
                platform_id=platform_id,
                url=f"https://max.ru/{slug}",
                title=name,
                verified=True,
                category=PageCategory.FLAGSHIP,
                **_webhook_secrets(Platform.MAX, platform_id),  # the registry demo's one rule for demo secrets
            )
        pages.append(page)
    return pages


def _subscribers(target: int, day: dt.date) -> int:
    """Growing about 0.4% a day up to the rating's date (MAX channels were new), 0.2% a day after it."""
    days = (day - RATING_DATE).days
    rate = 0.004 if days < 0 else 0.002
    return max(round(target * (1 + rate * days)), 1)


def seed_ratings(registry: DemoRegistry, *, stdout: TextIO) -> int:
    """The governments' MAX audience around 1 December 2025; returns the snapshots written."""
    with transaction.atomic():
        extra = _extra_governments()
        governments = {
            page.organization.region.code: page
            for page in Page.objects.filter(
                platform=Platform.MAX, organization__kind=OrganizationKind.REGIONAL_GOVERNMENT, is_active=True
            )
            .select_related("organization__region")
            .order_by("-id")
        }
        today = timezone.localdate()
        rows = []
        for code, target in PUBLISHED.items():
            page = governments.get(code)
            if page is None:
                continue
            for offset in range(HISTORY_DAYS):
                day = RATING_DATE - dt.timedelta(days=offset)
                rows.append({"page_id": page.pk, "date": day, "subscribers": _subscribers(target, day)})
            if page in extra:
                # The registry demo gives every page 60 days up to today; these two get theirs here.
                for offset in range(AUDIENCE_DAYS):
                    day = today - dt.timedelta(days=offset)
                    if day > RATING_DATE:
                        rows.append({"page_id": page.pk, "date": day, "subscribers": _subscribers(target, day)})
        written = audience_snapshots_upsert(actor=registry.users["admin"], rows=rows)
    stdout.write(
        f"Demo ratings: MAX channels of {len(governments)} regional governments, {written} audience snapshots "
        f"around {RATING_DATE.isoformat()}.\n"
    )
    return written
