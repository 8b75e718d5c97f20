"""Demo data for `make run`: a small registry across seven regions and time zones, and a login for every role.

Everything is keyed on natural keys (OGRN, platform and platform id, username, page and date) and written only
where it differs, so `manage.py seed_demo` can run on every start: a second run on the same day writes nothing
new. Audience figures are a pure function of (page, date), so a later run extends the series without rewriting
the days already stored.

The demo password and the tokens are public (README.md): `seed_registry` refuses to run under production settings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.management.base import CommandError
from django.db import models, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.validators import INN10_WEIGHTS, inn_check_digit
from publics.models import Membership, Organization, OrganizationKind, Page, PageCategory, Platform, Region, Role
from publics.services import audience_snapshots_upsert

DEMO_PASSWORD = "otklik-demo"  # noqa: S105 (public on purpose: README.md lists it)
AUDIENCE_DAYS = 60
# Fixed seed and anchor date: the same page has the same figure on the same date on every machine and run.
AUDIENCE_SEED = 2025
AUDIENCE_ANCHOR = dt.date(2025, 12, 1)  # the date of the MAX reach rating in domain.md

# Tax-office codes of the regions (the first digits of their OGRN and INN).
_TAX_REGION = {
    "RU-MOW": "77",
    "RU-KGD": "39",
    "RU-SVE": "66",
    "RU-NVS": "54",
    "RU-PRI": "25",
    "RU-CHU": "87",
    "RU-AST": "30",
}


class _Org(NamedTuple):
    key: str
    kind: str
    region: str
    name: str
    short_name: str
    parent: str | None
    record: int  # the registration record number: OGRN and INN are built from it
    slug: str  # the pages' screen name on every platform
    timezone: str = ""
    hours: tuple[dt.time, dt.time] | None = None


# Short aliases keep the table below one organisation to a few lines.
K = OrganizationKind
_T = dt.time

# Parents are listed before their children.
ORGANIZATIONS: tuple[_Org, ...] = (
    # Moscow (MSK)
    _Org("mow_gov", K.REGIONAL_GOVERNMENT, "RU-MOW", "Правительство Москвы", "Правительство Москвы", None, 10101,
         "mos_gov"),
    _Org("mow_mayor", K.GOVERNOR, "RU-MOW", "Мэр Москвы", "Мэр Москвы", None, 10102, "mos_mayor"),
    _Org("mow_edu", K.REGIONAL_EXECUTIVE_BODY, "RU-MOW", "Департамент образования и науки города Москвы", "ДОНМ",
         "mow_gov", 10103, "mos_obr"),
    _Org("mow_health", K.REGIONAL_EXECUTIVE_BODY, "RU-MOW", "Департамент здравоохранения города Москвы", "ДЗМ",
         "mow_gov", 10104, "mos_dzm"),
    _Org("mow_culture", K.REGIONAL_EXECUTIVE_BODY, "RU-MOW", "Департамент культуры города Москвы",
         "Департамент культуры Москвы", "mow_gov", 10105, "mos_kultura"),
    _Org("mow_district", K.LOCAL_GOVERNMENT, "RU-MOW", "Аппарат Совета депутатов муниципального округа Хамовники",
         "МО Хамовники", None, 10106, "mo_hamovniki"),
    _Org("mow_school", K.SCHOOL, "RU-MOW",
         "Государственное бюджетное общеобразовательное учреждение города Москвы «Школа № 1571»", "Школа № 1571",
         "mow_edu", 10107, "school1571", hours=(_T(8, 0), _T(17, 0))),
    _Org("mow_hospital", K.HOSPITAL, "RU-MOW",
         "Государственное бюджетное учреждение здравоохранения города Москвы «Городская клиническая больница № 29»",
         "ГКБ № 29", "mow_health", 10108, "gkb29"),
    _Org("mow_clinic", K.CLINIC, "RU-MOW",
         "Государственное бюджетное учреждение здравоохранения города Москвы «Городская поликлиника № 220»",
         "Поликлиника № 220", "mow_health", 10109, "gp220", hours=(_T(8, 0), _T(20, 0))),
    _Org("mow_theatre", K.THEATRE, "RU-MOW",
         "Государственное бюджетное учреждение культуры города Москвы «Московский драматический театр на Перовской»",
         "Театр на Перовской", "mow_culture", 10110, "teatr_perovskaya", hours=(_T(10, 0), _T(19, 0))),
    _Org("mow_library", K.LIBRARY, "RU-MOW",
         "Государственное бюджетное учреждение культуры города Москвы «Библиотека-читальня им. И. С. Тургенева»",
         "Тургеневка", "mow_culture", 10111, "turgenevka"),
    _Org("mow_youth", K.YOUTH_CENTRE, "RU-MOW",
         "Государственное бюджетное учреждение города Москвы «Молодёжный центр «Хамовники»»",
         "Молодёжный центр «Хамовники»", "mow_district", 10112, "mc_hamovniki"),
    # Kaliningrad (MSK-1)
    _Org("kgd_gov", K.REGIONAL_GOVERNMENT, "RU-KGD", "Правительство Калининградской области",
         "Правительство Калининградской области", None, 20101, "kgd_gov"),
    _Org("kgd_governor", K.GOVERNOR, "RU-KGD", "Губернатор Калининградской области",
         "Губернатор Калининградской области", None, 20102, "kgd_governor"),
    _Org("kgd_health", K.REGIONAL_EXECUTIVE_BODY, "RU-KGD", "Министерство здравоохранения Калининградской области",
         "Минздрав Калининградской области", "kgd_gov", 20103, "kgd_minzdrav"),
    _Org("kgd_hospital", K.HOSPITAL, "RU-KGD",
         "Государственное бюджетное учреждение здравоохранения «Областная клиническая больница "
         "Калининградской области»", "Областная больница (Калининград)", "kgd_health", 20104, "okb39"),
    _Org("kgd_museum", K.MUSEUM, "RU-KGD",
         "Государственное бюджетное учреждение культуры «Калининградский областной историко-художественный музей»",
         "Историко-художественный музей", "kgd_gov", 20105, "kgd_museum", hours=(_T(10, 0), _T(18, 0))),
    _Org("kgd_city", K.LOCAL_GOVERNMENT, "RU-KGD", "Администрация городского округа «Город Калининград»",
         "Администрация Калининграда", None, 20106, "klgd_city"),
    _Org("kgd_kindergarten", K.KINDERGARTEN, "RU-KGD",
         "Муниципальное автономное дошкольное образовательное учреждение города Калининграда детский сад № 115",
         "Детский сад № 115", "kgd_city", 20107, "ds115_klgd", hours=(_T(7, 0), _T(19, 0))),
    # Sverdlovsk (MSK+2)
    _Org("sve_gov", K.REGIONAL_GOVERNMENT, "RU-SVE", "Правительство Свердловской области",
         "Правительство Свердловской области", None, 30101, "sverdl_gov"),
    _Org("sve_governor", K.GOVERNOR, "RU-SVE", "Губернатор Свердловской области", "Губернатор Свердловской области",
         None, 30102, "sverdl_governor"),
    _Org("sve_social", K.REGIONAL_EXECUTIVE_BODY, "RU-SVE", "Министерство социальной политики Свердловской области",
         "Минсоцполитики Свердловской области", "sve_gov", 30103, "msp_sverdl"),
    _Org("sve_kcson", K.SOCIAL_SERVICE, "RU-SVE",
         "Государственное автономное учреждение социального обслуживания Свердловской области «Комплексный центр "
         "социального обслуживания населения Кировского района города Екатеринбурга»", "КЦСОН Кировского района",
         "sve_social", 30104, "kcson_kirov_ekb"),
    _Org("sve_city", K.LOCAL_GOVERNMENT, "RU-SVE", "Администрация города Екатеринбурга",
         "Администрация Екатеринбурга", None, 30105, "ekb_city"),
    _Org("sve_school", K.SCHOOL, "RU-SVE",
         "Муниципальное автономное общеобразовательное учреждение «Гимназия № 9» города Екатеринбурга",
         "Гимназия № 9", "sve_city", 30106, "gymn9_ekb", hours=(_T(8, 0), _T(17, 0))),
    _Org("sve_library", K.LIBRARY, "RU-SVE",
         "Государственное автономное учреждение культуры Свердловской области «Свердловская областная "
         "универсальная научная библиотека им. В. Г. Белинского»", "Библиотека Белинского", "sve_gov", 30107,
         "belinka"),
    _Org("sve_sports", K.SPORTS, "RU-SVE",
         "Государственное автономное учреждение Свердловской области «Центр спортивной подготовки сборных команд»",
         "Центр спортивной подготовки", "sve_gov", 30108, "csp_sverdl"),
    # Novosibirsk (MSK+4)
    _Org("nvs_gov", K.REGIONAL_GOVERNMENT, "RU-NVS", "Правительство Новосибирской области",
         "Правительство Новосибирской области", None, 40101, "nso_gov"),
    _Org("nvs_governor", K.GOVERNOR, "RU-NVS", "Губернатор Новосибирской области",
         "Губернатор Новосибирской области", None, 40102, "nso_governor"),
    _Org("nvs_edu", K.REGIONAL_EXECUTIVE_BODY, "RU-NVS", "Министерство образования Новосибирской области",
         "Минобр НСО", "nvs_gov", 40103, "minobr_nso"),
    _Org("nvs_city", K.LOCAL_GOVERNMENT, "RU-NVS", "Мэрия города Новосибирска", "Мэрия Новосибирска", None, 40104,
         "novo_sibirsk"),
    _Org("nvs_theatre", K.THEATRE, "RU-NVS",
         "Государственное автономное учреждение культуры Новосибирской области «Новосибирский государственный "
         "академический театр оперы и балета»", "НОВАТ", "nvs_gov", 40105, "novat", hours=(_T(10, 0), _T(20, 0))),
    _Org("nvs_youth", K.YOUTH_CENTRE, "RU-NVS",
         "Государственное автономное учреждение Новосибирской области «Центр молодёжных инициатив»",
         "Центр молодёжных инициатив", "nvs_gov", 40106, "cmi_nso"),
    _Org("nvs_clinic", K.CLINIC, "RU-NVS",
         "Государственное бюджетное учреждение здравоохранения Новосибирской области «Городская клиническая "
         "поликлиника № 1»", "Поликлиника № 1 (Новосибирск)", "nvs_gov", 40107, "gkp1_nsk",
         hours=(_T(8, 0), _T(20, 0))),
    # Primorsky Krai (MSK+7)
    _Org("pri_gov", K.REGIONAL_GOVERNMENT, "RU-PRI", "Правительство Приморского края",
         "Правительство Приморского края", None, 50101, "primorsky_gov"),
    _Org("pri_governor", K.GOVERNOR, "RU-PRI", "Губернатор Приморского края", "Губернатор Приморского края", None,
         50102, "primorsky_governor"),
    _Org("pri_city", K.LOCAL_GOVERNMENT, "RU-PRI", "Администрация города Владивостока",
         "Администрация Владивостока", None, 50103, "vlc_city"),
    _Org("pri_hospital", K.HOSPITAL, "RU-PRI",
         "Краевое государственное бюджетное учреждение здравоохранения «Владивостокская клиническая больница № 1»",
         "ВКБ № 1", "pri_gov", 50104, "vkb1_vl"),
    _Org("pri_sports", K.SPORTS, "RU-PRI",
         "Краевое государственное автономное учреждение «Спортивная школа олимпийского резерва по парусному спорту»",
         "СШОР по парусному спорту", "pri_gov", 50105, "sail_primorye"),
    _Org("pri_kindergarten", K.KINDERGARTEN, "RU-PRI",
         "Муниципальное бюджетное дошкольное образовательное учреждение «Детский сад № 112 г. Владивостока»",
         "Детский сад № 112", "pri_city", 50106, "ds112_vl", hours=(_T(7, 0), _T(19, 0))),
    # Chukotka (MSK+9)
    _Org("chu_gov", K.REGIONAL_GOVERNMENT, "RU-CHU", "Правительство Чукотского автономного округа",
         "Правительство Чукотки", None, 60101, "chukotka_gov"),
    _Org("chu_governor", K.GOVERNOR, "RU-CHU", "Губернатор Чукотского автономного округа", "Губернатор Чукотки", None,
         60102, "chukotka_governor"),
    # The representation in Moscow works Moscow hours: the time-zone override of the demo.
    _Org("chu_moscow_office", K.REGIONAL_EXECUTIVE_BODY, "RU-CHU",
         "Постоянное представительство Чукотского автономного округа при Правительстве Российской Федерации",
         "Представительство Чукотки в Москве", "chu_gov", 60103, "chukotka_msk", timezone="Europe/Moscow"),
    _Org("chu_city", K.LOCAL_GOVERNMENT, "RU-CHU", "Администрация городского округа Анадырь",
         "Администрация Анадыря", None, 60104, "anadyr_city"),
    _Org("chu_school", K.SCHOOL, "RU-CHU",
         "Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № 1 "
         "города Анадыря»", "Школа № 1 (Анадырь)", "chu_city", 60105, "school1_anadyr"),
    _Org("chu_hospital", K.HOSPITAL, "RU-CHU",
         "Государственное бюджетное учреждение здравоохранения «Чукотская окружная больница»",
         "Чукотская окружная больница", "chu_gov", 60106, "chob87"),
    # Astrakhan (MSK+1)
    _Org("ast_gov", K.REGIONAL_GOVERNMENT, "RU-AST", "Правительство Астраханской области",
         "Правительство Астраханской области", None, 70101, "astrobl_gov"),
    _Org("ast_governor", K.GOVERNOR, "RU-AST", "Губернатор Астраханской области", "Губернатор Астраханской области",
         None, 70102, "astr_governor"),
    _Org("ast_culture", K.REGIONAL_EXECUTIVE_BODY, "RU-AST", "Министерство культуры Астраханской области",
         "Минкультуры Астраханской области", "ast_gov", 70103, "minkult_ast"),
    _Org("ast_theatre", K.THEATRE, "RU-AST",
         "Государственное автономное учреждение культуры Астраханской области «Астраханский государственный театр "
         "оперы и балета»", "Астраханский театр оперы и балета", "ast_culture", 70104, "astopera",
         hours=(_T(10, 0), _T(19, 0))),
    _Org("ast_library", K.LIBRARY, "RU-AST",
         "Государственное бюджетное учреждение культуры Астраханской области «Астраханская областная научная "
         "библиотека им. Н. К. Крупской»", "Библиотека Крупской", "ast_culture", 70105, "aonb"),
    _Org("ast_city", K.LOCAL_GOVERNMENT, "RU-AST",
         "Администрация муниципального образования «Городской округ город Астрахань»", "Администрация Астрахани",
         None, 70106, "astrakhan_city"),
)  # fmt: skip

# Which platforms an organisation of a kind keeps pages on (governments everywhere, a kindergarten on VK only).
PLATFORMS_BY_KIND: dict[str, tuple[str, ...]] = {
    K.REGIONAL_GOVERNMENT: (Platform.VK, Platform.OK, Platform.MAX, Platform.TELEGRAM),
    K.GOVERNOR: (Platform.VK, Platform.MAX, Platform.TELEGRAM),
    K.REGIONAL_EXECUTIVE_BODY: (Platform.VK, Platform.OK, Platform.MAX),
    K.LOCAL_GOVERNMENT: (Platform.VK, Platform.OK, Platform.MAX),
    K.SCHOOL: (Platform.VK, Platform.MAX),
    K.KINDERGARTEN: (Platform.VK,),
    K.HOSPITAL: (Platform.VK, Platform.OK, Platform.MAX),
    K.CLINIC: (Platform.VK, Platform.OK),
    K.THEATRE: (Platform.VK, Platform.TELEGRAM),
    K.MUSEUM: (Platform.VK, Platform.TELEGRAM),
    K.LIBRARY: (Platform.VK, Platform.OK),
    K.YOUTH_CENTRE: (Platform.VK, Platform.MAX, Platform.TELEGRAM),
    K.SPORTS: (Platform.VK,),
    K.SOCIAL_SERVICE: (Platform.VK, Platform.OK),
}
# Subscribers of a VK page of this kind in a region of two million people, on the anchor date.
_VK_AUDIENCE_BY_KIND = {
    K.REGIONAL_GOVERNMENT: 300_000,
    K.GOVERNOR: 250_000,
    K.REGIONAL_EXECUTIVE_BODY: 30_000,
    K.LOCAL_GOVERNMENT: 60_000,
    K.SCHOOL: 1_500,
    K.KINDERGARTEN: 400,
    K.HOSPITAL: 8_000,
    K.CLINIC: 3_000,
    K.THEATRE: 20_000,
    K.MUSEUM: 12_000,
    K.LIBRARY: 6_000,
    K.YOUTH_CENTRE: 5_000,
    K.SPORTS: 2_500,
    K.SOCIAL_SERVICE: 2_000,
}
# Relative size and daily growth of each platform: MAX is small and growing fast since August 2025.
_PLATFORM_SHARE = {Platform.VK: 1.0, Platform.OK: 0.35, Platform.MAX: 0.07, Platform.TELEGRAM: 0.25}
_PLATFORM_GROWTH = {Platform.VK: 0.0003, Platform.OK: 0.0001, Platform.MAX: 0.004, Platform.TELEGRAM: 0.001}
_FLAGSHIP_KINDS = {K.REGIONAL_GOVERNMENT, K.GOVERNOR}


class _User(NamedTuple):
    username: str
    first_name: str
    last_name: str
    role: str
    organization: str | None = None  # an organisation key of ORGANIZATIONS
    region: str | None = None  # a region code
    page: tuple[str, str] | None = None  # (organisation key, platform)
    can_view_personal_data: bool = True
    is_staff: bool = False
    is_superuser: bool = False


# Operators and analysts work in the admin, so they are staff. Auditors and the integration use the API only:
# the admin shows citizens' data unmasked, and an auditor must see it masked.
USERS: tuple[_User, ...] = (
    _User("operator_school", "Анна", "Смирнова", Role.OPERATOR, organization="mow_school", is_staff=True),
    _User("operator_hospital", "Игорь", "Кузнецов", Role.OPERATOR, organization="kgd_hospital", is_staff=True),
    _User("analyst_moscow", "Мария", "Волкова", Role.ANALYST, region="RU-MOW", is_staff=True),
    _User("auditor_sverdlovsk", "Олег", "Морозов", Role.AUDITOR, region="RU-SVE", can_view_personal_data=False),
    _User("auditor_federal", "Елена", "Соколова", Role.AUDITOR, can_view_personal_data=False),
    _User("admin", "Дмитрий", "Лебедев", Role.FEDERAL_ADMIN, is_staff=True, is_superuser=True),
    _User("integration_vk", "Интеграция", "VK", Role.INTEGRATION, page=("mow_school", Platform.VK)),
)
# The integration authenticates with its token only.
_TOKEN_ONLY = {Role.INTEGRATION}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str  # empty: the account has no password and signs in with its token
    role: str
    scope: str
    token: str


@dataclass(frozen=True)
class DemoRegistry:
    organizations: dict[str, Organization]  # by key of ORGANIZATIONS, e.g. "mow_school"
    # The primary page by (organisation key, platform), and the extra news page as ("mow_gov", "vk_news").
    pages: dict[tuple[str, str], Page]
    users: dict[str, AbstractUser]  # by username
    logins: list[DemoLogin]


def seed_registry(*, stdout: TextIO) -> DemoRegistry:
    """Create or refresh the demo registry, users and audience history; safe to run any number of times."""
    if settings.SETTINGS_MODULE.endswith(".production"):
        raise CommandError("Demo data has a public password and public tokens: never seed it in production.")
    with transaction.atomic():
        organizations, organizations_created = _seed_organizations()
        pages, pages_created = _seed_pages(organizations)
        users = _seed_users(organizations, pages)
        audience_rows = _seed_audience(pages.values(), actor=users["admin"], today=timezone.localdate())
    stdout.write(
        f"Demo registry: {len(organizations)} organizations ({organizations_created} new), "
        f"{len(pages)} pages ({pages_created} new), {len(users)} users, "
        f"{audience_rows} audience snapshots ({AUDIENCE_DAYS} days per page).\n"
    )
    return DemoRegistry(organizations=organizations, pages=pages, users=users, logins=demo_logins())


def demo_logins() -> list[DemoLogin]:
    """The demo users as stored now (the dev server prints them without re-seeding)."""
    memberships = (
        Membership.objects.filter(user__username__in=[spec.username for spec in USERS])
        .select_related("user__auth_token", "organization__region", "region", "page")
        .order_by("id")
    )
    by_username = {membership.user.username: membership for membership in memberships}
    logins = []
    for spec in USERS:
        membership = by_username.get(spec.username)
        if membership is None:
            continue
        token = getattr(membership.user, "auth_token", None)
        logins.append(
            DemoLogin(
                username=spec.username,
                password="" if spec.role in _TOKEN_ONLY else DEMO_PASSWORD,
                role=spec.role,
                scope=_describe_scope(membership),
                token=token.key if token else "",
            )
        )
    return logins


def format_logins(logins: list[DemoLogin]) -> str:
    """A plain-text table of the demo logins, for a terminal."""
    if not logins:
        return "No demo users yet: run `manage.py seed_demo`.\n"
    header = ("login", "password", "role", "scope", "token (Authorization: Token …)")
    rows = [(login.username, login.password or "—", login.role, login.scope, login.token) for login in logins]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def demo_token_key(username: str) -> str:
    """The demo user's DRF token: derived from the username, so it is the same on every machine and every run."""
    return hashlib.sha256(f"otklik-demo-token:{username}".encode()).hexdigest()[:40]


def ogrn_for(region_code: str, record: int) -> str:
    """A 13-digit OGRN registered in 2002 with the region's tax code, and its check digit."""
    body = f"102{_TAX_REGION[region_code]}00{record:05d}"
    return body + str(int(body) % 11 % 10)


def inn_for(region_code: str, record: int) -> str:
    """A legal entity's 10-digit INN with the region's tax code, and its check digit (core.validators weights)."""
    body = f"{_TAX_REGION[region_code]}00{record:05d}"
    return body + str(inn_check_digit([int(digit) for digit in body], INN10_WEIGHTS))


def _upsert(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]) -> tuple[Any, bool]:
    """Find the row by its natural key and bring it to `values`, saving only when something differs.

    Saving through `full_clean()` runs the model's own rules (check digits, constraints), as the services do.
    """
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
    elif all(getattr(instance, name) == value for name, value in values.items()):
        return instance, False
    else:
        for name, value in values.items():
            setattr(instance, name, value)
    created = instance.pk is None
    instance.full_clean()
    instance.save()
    return instance, created


def _seed_organizations() -> tuple[dict[str, Organization], int]:
    regions = {region.code: region for region in Region.objects.filter(code__in=_TAX_REGION)}
    organizations: dict[str, Organization] = {}
    created_count = 0
    for spec in ORGANIZATIONS:
        opens_at, closes_at = spec.hours or (dt.time(9, 0), dt.time(18, 0))
        organization, created = _upsert(
            Organization,
            lookup={"ogrn": ogrn_for(spec.region, spec.record)},
            values={
                "name": spec.name,
                "short_name": spec.short_name,
                "kind": spec.kind,
                "region_id": regions[spec.region].pk,
                "parent_id": organizations[spec.parent].pk if spec.parent else None,
                "inn": inn_for(spec.region, spec.record),
                "timezone": spec.timezone,
                "office_opens_at": opens_at,
                "office_closes_at": closes_at,
            },
        )
        organization.region = regions[spec.region]
        organizations[spec.key] = organization
        created_count += created
    return organizations, created_count


def _page_values(spec: _Org, platform: str) -> dict[str, Any]:
    """Plausible ids and URLs of each platform, derived from the organisation's record number."""
    number = spec.record
    platform_id, url, title = {
        Platform.VK: (str(200_000_000 + number * 7), f"https://vk.com/{spec.slug}", spec.short_name),
        Platform.OK: (str(70_000_000_000_000 + number * 13), f"https://ok.ru/{spec.slug}", spec.short_name),
        Platform.MAX: (str(-68_000_000_000 - number * 11), f"https://max.ru/{spec.slug}", spec.short_name),
        Platform.TELEGRAM: (
            str(-1_002_000_000_000 - number * 17),
            f"https://t.me/{spec.slug}",
            f"{spec.short_name} | официально",
        ),
    }[platform]
    if spec.kind in _FLAGSHIP_KINDS and platform in (Platform.VK, Platform.MAX):
        category = PageCategory.FLAGSHIP
    elif spec.kind in {K.KINDERGARTEN, K.SPORTS} or (platform == Platform.MAX and spec.kind == K.SCHOOL):
        category = PageCategory.CARD
    else:
        category = PageCategory.ACTIVE
    return {
        "platform_id": platform_id,
        "url": url,
        "title": title,
        # Telegram has no «Госорганизация» mark; the kindergartens have not confirmed theirs through Gosuslugi yet.
        "verified": platform != Platform.TELEGRAM and spec.kind != K.KINDERGARTEN,
        "category": category,
        "is_active": True,
        **_webhook_secrets(platform, platform_id),
    }


def _webhook_secrets(platform: str, platform_id: str) -> dict[str, str]:
    """Deterministic secrets (a random one would change on every run). OK has no webhooks (domain.md section 8)."""
    digest = hashlib.sha256(f"otklik-demo-webhook:{platform}:{platform_id}".encode()).hexdigest()
    return {
        "webhook_secret": "" if platform == Platform.OK else digest[:32],
        "confirmation_code": digest[32:40] if platform == Platform.VK else "",
    }


def _seed_pages(organizations: dict[str, Organization]) -> tuple[dict[tuple[str, str], Page], int]:
    pages: dict[tuple[str, str], Page] = {}
    created_count = 0
    for spec in ORGANIZATIONS:
        for platform in PLATFORMS_BY_KIND[spec.kind]:
            values = _page_values(spec, platform)
            page, created = _upsert(
                Page,
                lookup={"platform": platform, "platform_id": values.pop("platform_id")},
                values={**values, "organization_id": organizations[spec.key].pk, "is_primary": True},
            )
            page.organization = organizations[spec.key]
            pages[(spec.key, platform)] = page
            created_count += created
    # A second, non-primary VK page: the city news community next to the government's own page.
    extra, created = _upsert(
        Page,
        lookup={"platform": Platform.VK, "platform_id": "200999001"},
        values={
            "organization_id": organizations["mow_gov"].pk,
            "url": "https://vk.com/moscow_news_official",
            "title": "Новости Москвы",
            "verified": True,
            "category": PageCategory.ACTIVE,
            "is_primary": False,
            "is_active": True,
            **_webhook_secrets(Platform.VK, "200999001"),
        },
    )
    extra.organization = organizations["mow_gov"]
    pages[("mow_gov", "vk_news")] = extra
    return pages, created_count + created


def _seed_users(organizations: dict[str, Organization], pages: dict[tuple[str, str], Page]) -> dict[str, AbstractUser]:
    user_model = get_user_model()
    regions = {region.code: region for region in Region.objects.filter(code__in=_TAX_REGION)}
    users: dict[str, AbstractUser] = {}
    for spec in USERS:
        user = _upsert_user(user_model, spec)
        _upsert(
            Membership,
            lookup={
                "user": user,
                "role": spec.role,
                "organization": organizations[spec.organization] if spec.organization else None,
                "region": regions[spec.region] if spec.region else None,
                "page": pages[spec.page] if spec.page else None,
            },
            values={"can_view_personal_data": spec.can_view_personal_data},
        )
        _ensure_token(user)
        users[spec.username] = user
    return users


def _upsert_user(user_model: type[AbstractUser], spec: _User) -> AbstractUser:
    user, _created = user_model.objects.get_or_create(username=spec.username)
    values = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.username}@demo.otklik.local",
        "is_active": True,
        "is_staff": spec.is_staff,
        "is_superuser": spec.is_superuser,
    }
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, values[name])
    # Hashes are salted: set the password only when it is not already the demo one, or nothing would stay put.
    if spec.role in _TOKEN_ONLY:
        if user.has_usable_password() or not user.password:
            user.set_unusable_password()
            changed.append("password")
    elif not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    return user


def _ensure_token(user: AbstractUser) -> None:
    key = demo_token_key(user.get_username())
    if Token.objects.filter(user=user, key=key).exists():
        return
    # The key is the primary key: a token changed by hand is replaced, not edited.
    Token.objects.filter(user=user).delete()
    Token.objects.create(user=user, key=key)


def _describe_scope(membership: Membership) -> str:
    masked = "" if membership.can_view_personal_data else ", personal data masked"
    if membership.role == Role.FEDERAL_ADMIN:
        return "everything (Django superuser)"
    if membership.organization is not None:
        organization = membership.organization
        return f"organization #{organization.pk} {organization.short_name} ({organization.region.code})"
    if membership.region is not None:
        return f"region {membership.region.code} {membership.region.name}{masked}"
    if membership.page is not None:
        page = membership.page
        return f"page #{page.pk} {page.platform}:{page.platform_id} {page.title}"
    return f"whole federation{masked}"


def _audience_on(page: Page, kind: str, population: int | None, day: dt.date) -> dict[str, Any]:
    """The page's figures on one day: a pure function of (page, day), with a fixed seed."""
    page_random = random.Random(f"{AUDIENCE_SEED}:{page.platform}:{page.platform_id}")
    # Bigger regions have bigger pages, less than in proportion to population (Chukotka: small, large per head).
    region_factor = min(max(((population or 2_000_000) / 2_000_000) ** 0.7, 0.03), 2.5)
    base = _VK_AUDIENCE_BY_KIND[kind] * _PLATFORM_SHARE[page.platform] * region_factor * page_random.uniform(0.8, 1.2)
    daily_growth = _PLATFORM_GROWTH[page.platform] * page_random.uniform(0.5, 1.5)
    day_random = random.Random(f"{AUDIENCE_SEED}:{page.platform}:{page.platform_id}:{day.isoformat()}")
    trend = base * (1 + daily_growth * (day - AUDIENCE_ANCHOR).days)
    subscribers = max(int(trend * (1 + day_random.uniform(-0.002, 0.002))), 10)
    return {
        "page_id": page.pk,
        "date": day,
        "subscribers": subscribers,
        "views": int(subscribers * day_random.uniform(0.05, 0.4)),
        "posts": day_random.randint(0, 6),
    }


def _seed_audience(pages: Any, *, actor: AbstractUser, today: dt.date) -> int:
    """60 days per page ending today, written through the audience service (one bulk upsert by page and date)."""
    rows = []
    for page in pages:
        organization = page.organization
        for offset in range(AUDIENCE_DAYS - 1, -1, -1):
            day = today - dt.timedelta(days=offset)
            rows.append(_audience_on(page, organization.kind, organization.region.population, day))
    return audience_snapshots_upsert(actor=actor, rows=rows)
