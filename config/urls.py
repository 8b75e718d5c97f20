from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.errors import not_found_view
from core.views import ApiRootView, healthz, site_root
from ratings.api.urls import open_data_urlpatterns

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("publics.api.urls")),
    path("", include("appeals.api.urls")),
    path("", include("connectors.urls")),
    path("", include("ratings.api.urls")),
    path("", include("exports.api.urls")),
]

admin.site.site_header = _("Otklik: appeals to official pages")
admin.site.site_title = _("Otklik")
admin.site.index_title = _("Appeals, pages and SLA")

urlpatterns = [
    path("", site_root, name="site-root"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("open-data/", include(open_data_urlpatterns)),
    path("open311/v2/", include("exports.open311")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
    # Last: any other URL under /api/ answers the JSON 404 itself, so clients get the one error shape even with
    # DEBUG on (handler404 below only applies with DEBUG off; DEBUG shows Django's HTML page instead).
    # CSRF-exempt: there is nothing to protect, and a POST with a session cookie must get the 404, not CSRF's page.
    re_path(r"^api/", csrf_exempt(not_found_view)),
]

# Errors outside DRF views (unknown URL, crash): the API's JSON shape under /api/ and for JSON clients, a Russian
# page for a person in a browser (core.errors.wants_json).
handler400 = "core.errors.bad_request_view"
handler403 = "core.errors.permission_denied_view"
handler404 = "core.errors.not_found_view"
handler500 = "core.errors.server_error_view"
