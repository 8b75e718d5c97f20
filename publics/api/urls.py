from django.urls import path
from rest_framework.routers import SimpleRouter

from publics.api import imports, views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("pages", views.PageViewSet, basename="page")

urlpatterns = [
    path("audience-snapshots/", views.AudienceBulkView.as_view(), name="audience-bulk"),
    path("me/", views.MeView.as_view(), name="me"),
    path("imports/registry/", imports.RegistryImportView.as_view(), name="registry-import"),
    *router.urls,
]
