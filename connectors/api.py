"""Connectors API: webhooks of the caller's pages, deliveries of replies, platform events (administrators).

Thin views over connectors.selectors (reads) and connectors.services (writes), as appeals.api.views.
"""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import selectors as appeal_selectors
from connectors import selectors, services
from connectors.models import Delivery, DeliveryStatus, EventStatus, PlatformEvent
from core.filters import IdFilter, IsoDateTimeRangeFilter
from publics.models import Platform

# Serializers --------------------------------------------------------------------------------------------------


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    appeal = serializers.IntegerField(source="appeal_id", read_only=True)
    reply = serializers.IntegerField(source="reply_id", read_only=True)
    page_id = serializers.IntegerField(read_only=True)
    platform = serializers.ChoiceField(choices=Platform.choices, read_only=True)
    method = serializers.CharField(read_only=True, help_text="The platform's method, e.g. `wall.createComment`.")
    delivery_status = serializers.ChoiceField(source="status", choices=DeliveryStatus.choices, read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.CharField(source="last_error", read_only=True, help_text="The platform's error, if any.")
    error_code = serializers.CharField(read_only=True)
    platform_message_id = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PlatformEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    platform = serializers.ChoiceField(choices=Platform.choices, read_only=True)
    page_id = serializers.IntegerField(read_only=True)
    event_key = serializers.CharField(read_only=True)
    event_type = serializers.CharField(read_only=True)
    payload = serializers.JSONField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=EventStatus.choices, read_only=True)
    processed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    attempts = serializers.IntegerField(read_only=True)
    error = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True)
    appeal = serializers.IntegerField(source="appeal_id", read_only=True, allow_null=True)


class PageWebhookSerializer(serializers.Serializer):
    page_id = serializers.IntegerField(source="id", read_only=True)
    platform = serializers.ChoiceField(choices=Platform.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    webhook_url = serializers.SerializerMethodField(help_text="Where the platform must send its events.")
    has_webhook_secret = serializers.SerializerMethodField()
    last_event_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_event_type = serializers.CharField(read_only=True, allow_null=True)
    poll_comments = serializers.SerializerMethodField(help_text="MAX: channel comments are polled.")

    def get_webhook_url(self, page) -> str | None:
        if page.platform not in ("vk", "max", "telegram"):
            return None
        path = reverse("webhook", kwargs={"platform": page.platform, "page_id": page.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_has_webhook_secret(self, page) -> bool:
        return bool(page.webhook_secret)

    def get_poll_comments(self, page) -> bool:
        connector = getattr(page, "connector", None)  # select_related; absent: RelatedObjectDoesNotExist
        return bool(connector and connector.poll_comments)


class AppealPlatformSerializer(serializers.Serializer):
    platform = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_blank=True, help_text="Link to the original comment or conversation.")
    delivery_status = serializers.ChoiceField(
        choices=DeliveryStatus.choices, allow_null=True, help_text="Of the latest reply's delivery."
    )
    error = serializers.CharField(allow_blank=True, help_text="The platform's error for that delivery.")
    deliveries = DeliverySerializer(many=True)


# Filters ------------------------------------------------------------------------------------------------------


class DeliveryFilter(django_filters.FilterSet):
    appeal = IdFilter(field_name="appeal_id", help_text="Appeal id.")
    page_id = IdFilter(field_name="page_id", help_text="Public page id.")
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices, distinct=False)
    created_at = IsoDateTimeRangeFilter()

    class Meta:
        model = Delivery
        fields = ["appeal", "page_id", "platform", "status", "created_at"]


class PlatformEventFilter(django_filters.FilterSet):
    page_id = IdFilter(field_name="page_id", help_text="Public page id.")
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    status = django_filters.MultipleChoiceFilter(choices=EventStatus.choices, distinct=False)
    event_type = django_filters.CharFilter(max_length=64)
    appeal = IdFilter(field_name="appeal_id", help_text="Appeal id.")
    received_at = IsoDateTimeRangeFilter()

    class Meta:
        model = PlatformEvent
        fields = ["page_id", "platform", "status", "event_type", "appeal", "received_at"]


# Views --------------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=["connectors"], summary="Deliveries of replies to the platforms, in your scope"),
    retrieve=extend_schema(tags=["connectors"], summary="Get a delivery"),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    extra_error_codes = ["409"]

    def get_queryset(self):
        return selectors.deliveries_visible_to(self.request.user)

    @extend_schema(
        tags=["connectors"],
        summary="Send a failed delivery again",
        description="With the same idempotency key. 403 without the right to act on the appeal, 409 unless failed.",
        request=None,
        responses={200: DeliverySerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        delivery = self.get_object()
        services.delivery_retry(actor=request.user, delivery_id=delivery.pk)
        return Response(self.get_serializer(get_object_or_404(self.get_queryset(), pk=delivery.pk)).data)


@extend_schema_view(
    list=extend_schema(tags=["connectors"], summary="Raw platform events (administrators)"),
    retrieve=extend_schema(tags=["connectors"], summary="Get a platform event (administrators)"),
)
class PlatformEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PlatformEventSerializer
    filterset_class = PlatformEventFilter
    ordering_fields = ["received_at", "id"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self):
        return selectors.platform_events_visible_to(self.request.user)

    @extend_schema(
        tags=["connectors"],
        summary="Process a platform event again (administrators)",
        request=None,
        responses={200: PlatformEventSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request: Request, pk: str) -> Response:
        event = self.get_object()
        services.event_reprocess(actor=request.user, event_id=event.pk)
        return Response(self.get_serializer(get_object_or_404(self.get_queryset(), pk=event.pk)).data)


@extend_schema_view(
    list=extend_schema(tags=["connectors"], summary="Webhooks of your pages and their last received event"),
    retrieve=extend_schema(tags=["connectors"], summary="Webhook of a page and its last received event"),
)
class PageWebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PageWebhookSerializer
    filterset_class = None
    filter_backends: list = []

    def get_queryset(self):
        return selectors.pages_with_webhooks(self.request.user)


# The appeal's page shows its latest deliveries; all of them are in /api/v1/deliveries/?appeal=<id>.
LATEST_DELIVERIES = 50


class AppealPlatformView(APIView):
    """Where the appeal came from and how its replies' deliveries went."""

    @extend_schema(
        tags=["appeals"],
        summary="The appeal on its platform: link to the original, delivery status of its replies",
        responses={200: AppealPlatformSerializer},
    )
    def get(self, request: Request, appeal_id: int) -> Response:
        appeal = get_object_or_404(appeal_selectors.appeals_visible_to(request.user).order_by(), pk=appeal_id)
        source = selectors.appeal_source(appeal.pk)
        deliveries = list(
            selectors.deliveries_visible_to(request.user)
            .filter(appeal_id=appeal.pk)
            .order_by("-created_at", "-id")[:LATEST_DELIVERIES]
        )
        latest = deliveries[0] if deliveries else None
        data = {
            "platform": appeal.page.platform if appeal.page_id else None,
            "url": source.url if source else "",
            "delivery_status": latest.status if latest else None,
            "error": latest.last_error if latest else "",
            "deliveries": DeliverySerializer(deliveries, many=True).data,
        }
        return Response(data)
