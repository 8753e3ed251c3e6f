from __future__ import annotations

from django.urls import path

from sync import views

urlpatterns = [
    path("w/<uuid:code>/activity/", views.activity, name="activity"),
    path("w/<uuid:code>/links/<int:link_id>/", views.link_detail, name="link-detail"),
    path("w/<uuid:code>/links/<int:link_id>/<str:action>/", views.link_action, name="link-action"),
    path(
        "w/<uuid:code>/ledger/<int:entry_id>/<str:action>/", views.entry_action, name="entry-action"
    ),
    path("w/<uuid:code>/runs/<int:run_id>/progress.json", views.run_progress, name="run-progress"),
    path("w/<uuid:code>/runs/<int:run_id>/rollback/", views.run_rollback, name="run-rollback"),
]
