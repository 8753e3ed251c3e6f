from __future__ import annotations

from django.urls import path

from mappings import views

P = "w/<uuid:code>/links/<int:link_id>/"

urlpatterns = [
    path(f"{P}mapping/", views.mapping, name="mapping"),
    path(f"{P}mapping/refresh/", views.chart_refresh, name="mapping-refresh"),
    path(f"{P}mapping/create-accounts/", views.accounts_create, name="mapping-create-accounts"),
    path(f"{P}mapping/export/", views.mapping_export, name="mapping-export"),
    path(f"{P}mapping/import/", views.mapping_import, name="mapping-import"),
    path(f"{P}review/", views.review, name="mapping-review"),
]
