"""Thin Celery tasks for mappings: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from connectors.models import Link
from mappings.services import mapping_release_held


@shared_task(name="mappings.tasks.release_held")
def release_held(link_id: int) -> int:
    """After a mapping change: rebuild and release the link's held documents, queue pushes."""
    link = Link.objects.select_related("xero_tenant__grant").filter(pk=link_id).first()
    if link is None:
        return 0  # the link was removed meanwhile: nothing to release
    return mapping_release_held(link)
