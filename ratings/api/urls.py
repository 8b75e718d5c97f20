from django.urls import path

from ratings.api import views

urlpatterns = [
    path("dashboards/sla/", views.SlaDashboardView.as_view(), name="dashboard-sla"),
    path("dashboards/sla/series/", views.SlaSeriesView.as_view(), name="dashboard-sla-series"),
    path("dashboards/sla/worst/", views.SlaWorstView.as_view(), name="dashboard-sla-worst"),
    path("ratings/reach/", views.ReachRatingView.as_view(), name="rating-reach"),
    path("ratings/responsiveness/", views.ResponsivenessRatingView.as_view(), name="rating-responsiveness"),
    path("ratings/snapshots/", views.SnapshotListView.as_view(), name="rating-snapshot-list"),
    path("ratings/snapshots/<int:pk>/", views.SnapshotDetailView.as_view(), name="rating-snapshot-detail"),
    path("ratings/snapshots/<int:pk>/publish/", views.SnapshotPublishView.as_view(), name="rating-snapshot-publish"),
]

# Open data: no login, stable URLs (config.urls mounts these at /open-data/).
open_data_urlpatterns = [
    path("ratings/", views.OpenDataListView.as_view(), name="open-data-ratings"),
    path(
        "ratings/<int:pk>.json", views.OpenDataSnapshotView.as_view(), {"format": "json"}, name="open-data-rating-json"
    ),
    path("ratings/<int:pk>.csv", views.OpenDataSnapshotView.as_view(), {"format": "csv"}, name="open-data-rating-csv"),
]
