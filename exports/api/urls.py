from django.urls import path

from exports.api import views

urlpatterns = [
    path("exports/overdue/", views.OverdueExportView.as_view(), name="export-overdue"),
    path("exports/", views.ExportJobCreateView.as_view(), name="export-job-create"),
    path("exports/<int:pk>/", views.ExportJobDetailView.as_view(), name="export-job-detail"),
    path("exports/<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="export-job-download"),
    path("export-log/", views.ExportLogView.as_view(), name="export-log"),
]
