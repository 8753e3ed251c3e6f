from __future__ import annotations

import os

from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self) -> None:
        from hub import checks  # noqa: F401  (registers the system checks)

        _prepare_filesystem_broker()


def _prepare_filesystem_broker() -> None:
    """The demo's filesystem broker and result store need their folders before any message."""
    from django.conf import settings

    if settings.CELERY_RESULT_BACKEND.startswith("file://"):
        os.makedirs(settings.CELERY_RESULT_BACKEND.removeprefix("file://"), exist_ok=True)
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
        if folder:
            os.makedirs(str(folder), exist_ok=True)
