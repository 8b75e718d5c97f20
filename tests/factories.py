"""factory_boy factories for the registry; valid OGRN and INN are generated with correct check digits."""

import random

import factory
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from core.access import SYSTEM
from core.validators import INN10_WEIGHTS, inn_check_digit
from publics.models import AudienceSnapshot, Membership, Organization, OrganizationKind, Page, Platform, Region


def make_ogrn(seed: int) -> str:
    body = f"1{seed:011d}"[-12:]
    return body + str(int(body) % 11 % 10)


def make_inn(seed: int) -> str:
    body = f"{seed:09d}"[-9:]
    digits = [int(c) for c in body]
    return body + str(inn_check_digit(digits, INN10_WEIGHTS))


def region(code: str = "RU-MOW") -> Region:
    return Region.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.ru")
    is_staff = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "secret-pass-123")
        if create:
            self.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Организация №{n}")
    short_name = factory.Sequence(lambda n: f"Орг {n}")
    kind = OrganizationKind.SCHOOL
    region = factory.LazyFunction(lambda: Region.objects.get(code="RU-MOW"))
    ogrn = factory.Sequence(lambda n: make_ogrn(1_000_000 + n))
    inn = factory.Sequence(lambda n: make_inn(7_700_000 + n))


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    organization = factory.SubFactory(OrganizationFactory)
    platform = Platform.VK
    platform_id = factory.Sequence(lambda n: str(100_000 + n))
    url = factory.LazyAttribute(lambda page: f"https://vk.com/club{page.platform_id}")
    title = factory.Sequence(lambda n: f"Страница {n}")
    verified = True
    webhook_secret = factory.LazyFunction(lambda: f"secret-{random.randint(1, 10**9)}")


class AudienceSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AudienceSnapshot

    page = factory.SubFactory(PageFactory)
    date = factory.Sequence(lambda n: __import__("datetime").date(2026, 1, 1) + __import__("datetime").timedelta(n))
    subscribers = 1000


def member(user, role: str, **scope) -> Membership:
    return Membership.objects.create(user=user, role=role, **scope)


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def make_appeal(page, *, received_at=None, now=None, external_id: str | None = None, **fields):
    """An appeal taken in through the intake service (policy and deadlines computed as in production)."""
    import datetime as dt

    from appeals.services import AppealInput, appeal_create

    make_appeal.counter = getattr(make_appeal, "counter", 0) + 1
    received_at = received_at or dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    data = AppealInput(
        kind=fields.pop("kind", "message"),
        channel=fields.pop("channel", "comment"),
        text=fields.pop("text", "Во дворе не убран снег"),
        received_at=received_at,
        external_id=external_id if external_id is not None else f"ext-{make_appeal.counter}",
        author_platform_id=fields.pop("author_platform_id", "100500"),
        author_name=fields.pop("author_name", "Иван Петров"),
        category=fields.pop("category", None),
        priority=fields.pop("priority", "normal"),
    )
    assert not fields, f"unknown fields: {fields}"
    page = type(page).objects.select_related("organization__region").get(pk=page.pk)
    appeal, _ = appeal_create(actor=SYSTEM, page=page, data=data, now=now or received_at)
    return appeal
