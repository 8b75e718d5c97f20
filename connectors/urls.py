from django.urls import path
from rest_framework.routers import SimpleRouter

from connectors import api, webhooks

router = SimpleRouter()
router.register("deliveries", api.DeliveryViewSet, basename="delivery")
router.register("platform-events", api.PlatformEventViewSet, basename="platform-event")
router.register("page-webhooks", api.PageWebhookViewSet, basename="page-webhook")

urlpatterns = [
    path("webhooks/<str:platform>/<int:page_id>/", webhooks.webhook, name="webhook"),
    path("appeals/<int:appeal_id>/platform/", api.AppealPlatformView.as_view(), name="appeal-platform"),
    *router.urls,
]
