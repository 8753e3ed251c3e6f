from __future__ import annotations

from django.urls import path

from purchases import views

PREFIX = "w/<uuid:code>/links/<int:link_id>/purchases/"

urlpatterns = [
    path(PREFIX, views.overview, name="purchases"),
    path(f"{PREFIX}import/", views.history_import, name="purchases-import"),
    path(f"{PREFIX}sync/", views.sync_now, name="purchases-sync"),
    path(f"{PREFIX}settings/", views.sync_settings, name="purchases-settings"),
    path(f"{PREFIX}cost-centres/", views.cost_centres, name="purchases-cost-centres"),
    path(f"{PREFIX}runs/<int:run_id>/", views.run_progress, name="purchases-run"),
    path(f"{PREFIX}runs/<int:run_id>/stop/", views.run_stop, name="purchases-run-stop"),
]
