from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.errors import wants_json


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    from config.celery_app import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker-compose: 200 when the database and the broker answer, else 503."""
    checks = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure is a failed check, reported rather than raised
            checks[name] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


class ApiRootView(APIView):
    """`/api/v1/`: links to the collections and the docs, for people exploring the API in a browser."""

    permission_classes = [AllowAny]
    schema = None  # a navigation aid, not an operation clients build on

    COLLECTIONS = (
        ("regions", "region-list"),
        ("organizations", "organization-list"),
        ("pages", "page-list"),
        ("appeals", "appeal-list"),
        ("categories", "category-list"),
        ("sla_policies", "sla-policy-list"),
        ("calendar_overrides", "calendar-override-list"),
        ("deliveries", "delivery-list"),
        ("platform_events", "platform-event-list"),
        ("page_webhooks", "page-webhook-list"),
        ("audience_snapshots", "audience-bulk"),
        ("registry_import", "registry-import"),
        ("me", "me"),
        ("dashboards_sla", "dashboard-sla"),
        ("ratings_reach", "rating-reach"),
        ("ratings_responsiveness", "rating-responsiveness"),
        ("rating_snapshots", "rating-snapshot-list"),
        ("open_data_ratings", "open-data-ratings"),
        ("exports_overdue", "export-overdue"),
        ("exports", "export-job-create"),
        ("export_log", "export-log"),
        ("open311_services", "open311-services"),
        ("schema", "schema"),
        ("docs", "swagger-ui"),
        ("redoc", "redoc"),
    )

    def get(self, request: Request) -> Response:
        return Response({name: reverse(url_name, request=request) for name, url_name in self.COLLECTIONS})


def site_root(request: HttpRequest) -> HttpResponseRedirect:
    """`/`: a person lands in the operators' desk; a client asking for JSON is sent to the API root."""
    return redirect("api-root" if wants_json(request) else "admin:index")
