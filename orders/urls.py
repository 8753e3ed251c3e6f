from __future__ import annotations

from django.urls import path

from orders import views

PREFIX = "w/<uuid:code>/links/<int:link_id>/orders/"

urlpatterns = [
    path(PREFIX, views.order_list, name="orders"),
    path(f"{PREFIX}mode/", views.mode, name="orders-mode"),
    path(f"{PREFIX}import/", views.backfill, name="orders-import"),
]
