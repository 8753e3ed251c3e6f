from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hub import health, metrics, views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/", views.app_home, name="app-home"),
    path("app/new/", views.workspace_new, name="workspace-new"),
    path("w/<uuid:code>/", views.workspace, name="workspace"),
    path("admin/", admin.site.urls),
    path("", include("connectors.urls")),
    path("", include("mappings.urls")),
    path("", include("purchases.urls")),
    path("", include("orders.urls")),
    path("", include("settlements.urls")),  # before sync.urls: links/<id>/<action>/ is generic
    path("", include("sync.urls")),
]

if settings.SANDBOX:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
