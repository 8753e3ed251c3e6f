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
