"""Measures and ratings: rollups of appeals per page and local day, the working-day table the rollups' SQL
reads, the rollups' bookkeeping, and stored rating snapshots (open data once published)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ratings import histogram


class Measures(models.Model):
    """The counts and duration histograms of a set of appeals (ratings.histogram for the `h_*` columns:
    first response `frc`/`frw` and resolution `rsc`/`rsw`, in calendar and in working minutes)."""

    received = models.PositiveIntegerField(_("received"))
    answered = models.PositiveIntegerField(_("answered"))
    first_response_on_time = models.PositiveIntegerField(_("first response on time"))
    first_response_breached = models.PositiveIntegerField(_("first response breached"))
    resolution_on_time = models.PositiveIntegerField(_("resolution on time"))
    resolution_breached = models.PositiveIntegerField(_("resolution breached"))
    open = models.PositiveIntegerField(_("open"))
    overdue = models.PositiveIntegerField(_("overdue"))
    computed_at = models.DateTimeField(_("computed at"))

    # Plain integers, no CHECK (>= 0): a rebuild writes hundreds of these per row, always as COUNTs, and a check
    # per column per row was a measurable share of its time (bench.rollups).
    for _metric in histogram.METRICS:
        for _bucket in range(histogram.BUCKETS):
            locals()[histogram.column(_metric, _bucket)] = models.IntegerField(null=True, blank=True)
    del _metric, _bucket

    class Meta:
        abstract = True


class Rollup(Measures):
    """The measures of domain.md section 7 for the appeals of one page (or, without a page, one organisation)
    received on one local day (in the organisation's zone), split by kind and category.

    Written only by `ratings.services` with set-based SQL (never saved through the ORM). `platform` and
    `organization_kind` are copied from the page and the organisation when the row is computed, so that
    dashboards filter without joins. `open` and `overdue` are as of `computed_at`: every change of an appeal,
    and every breach the sweep records, re-rolls its row.
    """

    # The keys are copied from appeals, whose own foreign keys hold them, so they carry no constraint of their own
    # (db_constraint=False): a rebuild writes a row per page and day, and four referential checks per row
    # would cost more than computing it. Deleting a region, organisation, page or category still cascades
    # through the ORM. No index of their own either (db_index=False): the (key, day) indexes below lead with
    # them, and every index is written for every row of a rebuild.
    day = models.DateField(_("day of receipt"))
    region = models.ForeignKey(
        "publics.Region",
        models.CASCADE,
        related_name="+",
        verbose_name=_("region"),
        db_constraint=False,
        db_index=False,
    )
    organization = models.ForeignKey(
        "publics.Organization",
        models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
        db_constraint=False,
        db_index=False,
    )
    page = models.ForeignKey(
        "publics.Page",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("page"),
        db_constraint=False,
        db_index=False,
    )
    platform = models.CharField(_("platform"), max_length=16, blank=True)
    organization_kind = models.CharField(_("organization kind"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16)
    category = models.ForeignKey(
        "appeals.Category",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        constraints = [
            models.UniqueConstraint(
                "organization",
                Coalesce("page", 0),
                "day",
                "kind",
                Coalesce("category", 0),
                "region",
                name="rollup_unique_key",
            ),
        ]
        # The unique key leads with the organisation: it also serves an operator's dashboards of their
        # organisations by period (the scan reads the organisation's entries of the period's monthly partitions;
        # the day comes after the page) and the re-roll's delete of an organisation. A rebuild builds every index
        # of its month again (ratings.partitions), so none is kept that another one already serves.
        indexes = [
            # Dashboards of an analyst's or auditor's regions by period.
            models.Index(fields=["region", "day"], name="rollup_region_day_idx"),
            # A page's dashboard (`page_id` filter) and the re-roll's delete of one page and day.
            models.Index(fields=["page", "day"], name="rollup_page_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id}/{self.page_id}"


class RollupRegionDay(Measures):
    """The rollups of one region and day summed: what dashboards read when they need no finer key (the
    federation or a region, by region or by period, without the organisation, page, platform, kind or category
    filters). Rewritten from `Rollup` whenever one of its rows is (ratings.services)."""

    day = models.DateField(_("day of receipt"))
    region = models.ForeignKey("publics.Region", models.CASCADE, related_name="+", verbose_name=_("region"))

    class Meta:
        verbose_name = _("rollup of a region and day")
        verbose_name_plural = _("rollups of regions and days")
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="rollup_region_day_unique")]
        indexes = [
            # The federation's dashboards by period (the region's go through the unique index).
            models.Index(fields=["day"], name="rollup_rday_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.region_id}"


class RollupRegionMonth(Measures):
    """The region-and-day sums of one region and calendar month: a year's federation dashboard reads 89 × 12
    of these instead of 89 × 365 day rows (the days at either end of a period that cut a month come from the
    day rows). Rewritten from `RollupRegionDay` whenever one of its days is."""

    month = models.DateField(_("month (its first day)"))
    region = models.ForeignKey("publics.Region", models.CASCADE, related_name="+", verbose_name=_("region"))

    class Meta:
        verbose_name = _("rollup of a region and month")
        verbose_name_plural = _("rollups of regions and months")
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="rollup_region_month_unique")]
        indexes = [
            # The federation's dashboards by period (the region's go through the unique index).
            models.Index(fields=["month"], name="rollup_rmonth_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_id}"


class DayKind(models.IntegerChoices):
    OFF = 0, _("day off")
    NORMAL = 1, _("working day")
    SHORTENED = 2, _("shortened working day")
    FIXED = 3, _("working day of fixed length")


class WorkDay(models.Model):
    """One date of a production calendar (core.worktime with the database's overrides), with prefix
    counts, so that the rollups' SQL computes office minutes between two moments with two look-ups.

    For an organisation opening at O for L microseconds, the office time before this date is
    ``L * normal_before + max(L - 1h, 0) * shortened_before + fixed_before_us``; the date itself adds
    L, max(L - 1h, 0), min(fixed_us, 24h - O) or nothing, by `kind`. Filled by `ratings.services`.
    """

    # The region whose own overrides make its calendar differ from the federal one, or 0 for the federal one,
    # which every other region shares.
    calendar = models.PositiveIntegerField(_("calendar (region id, 0: federal)"))
    date = models.DateField(_("date"))
    kind = models.PositiveSmallIntegerField(_("kind"), choices=DayKind.choices)
    fixed_us = models.BigIntegerField(_("length of a fixed day, µs"), default=0)
    normal_before = models.IntegerField(_("normal working days before"))
    shortened_before = models.IntegerField(_("shortened working days before"))
    fixed_before_us = models.BigIntegerField(_("office time of fixed days before, µs"))

    class Meta:
        verbose_name = _("working day")
        verbose_name_plural = _("working days")
        constraints = [
            # Also the index of the rollups' look-up of a moment's date in its region's calendar.
            models.UniqueConstraint(fields=["calendar", "date"], name="workday_unique_calendar_date"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.date}"


class RollupState(models.Model):
    """The rollups' bookkeeping, one row: how far the history has been caught up, and the calendar the
    working-day table was built from."""

    watermark = models.BigIntegerField(_("last history event caught up"), default=0)
    caught_up_at = models.DateTimeField(_("caught up at"), null=True, blank=True)
    calendar_fingerprint = models.CharField(_("calendar fingerprint"), max_length=64, blank=True)
    calendar_overrides = models.JSONField(_("calendar overrides built"), default=dict, blank=True)
    calendar_first_year = models.PositiveSmallIntegerField(_("first year of the working-day table"), null=True)
    calendar_last_year = models.PositiveSmallIntegerField(_("last year of the working-day table"), null=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"watermark {self.watermark}"


class RatingKind(models.TextChoices):
    REACH = "reach", _("reach")
    RESPONSIVENESS = "responsiveness", _("responsiveness")


class RatingSnapshot(models.Model):
    """A rating as computed once: its parameters, as-of date and rows, who stored it and when. Published, it
    is open data (readable without login); the rows hold only public figures about regions and bodies."""

    kind = models.CharField(_("rating"), max_length=16, choices=RatingKind.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    as_of = models.DateField(_("as of"))
    rows = models.JSONField(_("rows"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("stored by")
    )
    created_at = models.DateTimeField(_("stored at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("rating snapshot")
        verbose_name_plural = _("rating snapshots")
        ordering = ["-as_of", "-id"]
        indexes = [
            # The open-data list: published snapshots, newest first.
            models.Index(
                fields=["-published_at"], condition=Q(published_at__isnull=False), name="rating_published_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.as_of}"
