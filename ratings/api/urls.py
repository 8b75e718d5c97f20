from django.urls import path

from ratings.api import views

urlpatterns = [
    path("dashboards/sla/", views.SlaDashboardView.as_view(), name="dashboard-sla"),
    path("dashboards/sla/series/", views.SlaSeriesView.as_view(), name="dashboard-sla-series"),
    path("dashboards/sla/worst/", views.SlaWorstView.as_view(), name="dashboard-sla-worst"),
]
