"""The app's URLs plus the reference of bench.appeal_create: a bare DRF view doing one INSERT per request.

The reference goes through the same stack as `POST /api/v1/appeals/` (gunicorn, Django's middleware, DRF's
parsing, TokenAuthentication and IsAuthenticated, the JSON renderer) and stores the same appeal in the same
table with its indexes and constraints, but with nothing else: one INSERT ... SELECT that takes the organisation
and region from the page, no scope, no policy, no deadlines, no history, no read-back. It is the floor of what
creating an appeal can cost through this stack.
"""

from django.db import connection
from django.urls import include, path
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500

INSERT = """
INSERT INTO appeals_appeal (
    page_id, organization_id, region_id, kind, channel, external_id, author_platform_id, author_name, text,
    priority, status, received_at, registered_at, resolution_started_at, pauses,
    extension_reason, reject_reason, sla_warned_percent, first_response_breached, resolution_breached,
    sla_state, created_at, updated_at
)
SELECT p.id, p.organization_id, o.region_id, %(kind)s, %(channel)s, %(external_id)s, '', '', %(text)s,
       'normal', 'new', %(received_at)s, now(), %(received_at)s, '[]', '', '', 0, false, false, 'on_track',
       now(), now()
FROM publics_page p JOIN publics_organization o ON o.id = p.organization_id
WHERE p.id = %(page)s
RETURNING id
"""


class BareInsertView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        data = request.data
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT,
                {
                    "page": data["page"],
                    "kind": data.get("kind", "message"),
                    "channel": data["channel"],
                    "external_id": data["external_id"],
                    "text": data["text"],
                    "received_at": data["received_at"],
                },
            )
            row = cursor.fetchone()
        if row is None:
            return Response({"detail": "unknown page"}, status=404)
        return Response({"id": row[0]}, status=201)


urlpatterns = [
    path("bench/bare-insert/", BareInsertView.as_view(), name="bench-bare-insert"),
    path("", include("config.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
