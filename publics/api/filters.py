import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import IdFilter, RegionCodeFilter, StrictBooleanFilter
from publics.models import Organization, OrganizationKind, Page, PageCategory, Platform, Region


class RegionFilter(django_filters.FilterSet):
    federal_district = django_filters.CharFilter(help_text="Exact federal district name (Russian).")
    timezone = django_filters.CharFilter(help_text="IANA time zone.")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name, English name or code.")

    class Meta:
        model = Region
        fields = ["federal_district", "timezone"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(name_en__icontains=value) | Q(code__iexact=value))


class OrganizationFilter(django_filters.FilterSet):
    region = RegionCodeFilter(field_name="region_id")
    kind = django_filters.MultipleChoiceFilter(choices=OrganizationKind.choices, help_text="Organization kind(s).")
    parent = IdFilter(field_name="parent_id", help_text="Id of the parent organization.")
    inn = django_filters.CharFilter(help_text="Exact INN.")
    ogrn = django_filters.CharFilter(help_text="Exact OGRN.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the name or short name, or an exact INN or OGRN."
    )

    class Meta:
        model = Organization
        fields = ["region", "kind", "parent", "inn", "ogrn"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(inn=value) | Q(ogrn=value))


class PageFilter(django_filters.FilterSet):
    region = RegionCodeFilter(field_name="organization__region_id")
    organization = IdFilter(field_name="organization_id", help_text="Organization id.")
    organization_kind = django_filters.MultipleChoiceFilter(
        field_name="organization__kind", choices=OrganizationKind.choices, help_text="Organization kind(s)."
    )
    platform = django_filters.MultipleChoiceFilter(choices=Platform.choices, help_text="Platform(s).")
    category = django_filters.MultipleChoiceFilter(choices=PageCategory.choices, help_text="Page category.")
    verified = StrictBooleanFilter(help_text="Only pages with (true) or without (false) the mark.")
    is_primary = StrictBooleanFilter(help_text="Primary page of its organization on the platform.")
    is_active = StrictBooleanFilter(help_text="Active pages.")
    platform_id = django_filters.CharFilter(help_text="The platform's id of the community or channel.")
    search = django_filters.CharFilter(method="filter_search", help_text=_("Part of the title, URL or platform id."))

    class Meta:
        model = Page
        fields = ["organization", "platform", "category", "verified", "is_primary", "is_active", "platform_id"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(title__icontains=value) | Q(url__icontains=value) | Q(platform_id=value))
