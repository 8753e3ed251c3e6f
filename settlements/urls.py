from __future__ import annotations

from django.urls import path

from settlements import views

urlpatterns = [
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/",
        views.settlement_list,
        name="settlements",
    ),
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/upload/",
        views.settlement_upload_view,
        name="settlements-upload",
    ),
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/options/",
        views.settlement_options,
        name="settlements-options",
    ),
    # Before the generic settlements/<action>/ below.
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/import/",
        views.settlement_import,
        name="settlements-import",
    ),
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/import/runs/<int:run_id>/",
        views.settlement_import_run,
        name="settlements-import-run",
    ),
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/import/runs/<int:run_id>/stop/",
        views.settlement_import_stop,
        name="settlements-import-stop",
    ),
    path(
        "w/<uuid:code>/links/<int:link_id>/settlements/<str:action>/",
        views.settlement_action,
        name="settlements-action",
    ),
    path(
        "w/<uuid:code>/settlements/<int:settlement_id>/repost/",
        views.settlement_repost,
        name="settlement-repost",
    ),
    path(
        "w/<uuid:code>/settlements/<int:settlement_id>/audit.csv",
        views.settlement_audit,
        name="settlement-audit",
    ),
]
