from rest_framework.routers import SimpleRouter

from appeals.api import views

router = SimpleRouter()
router.register("appeals", views.AppealViewSet, basename="appeal")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("sla-policies", views.SlaPolicyViewSet, basename="sla-policy")
router.register("calendar-overrides", views.CalendarOverrideViewSet, basename="calendar-override")

urlpatterns = router.urls
