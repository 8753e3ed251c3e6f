"""The SP-API of one region, mounted at ``/sandbox/amazon/sp/<region>/`` (na, eu or fe).

Each view receives ``region``; ``_s3/`` stands in for the presigned report-document host.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sandbox.amazon import finances, orders, reports, sellers

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "sellers/v1/marketplaceParticipations",
        sellers.marketplace_participations,
        name="amazon-sp-participations",
    ),
    path("orders/v0/orders", orders.get_orders, name="amazon-sp-orders"),
    path(
        "orders/v0/orders/<str:order_id>/orderItems",
        orders.get_order_items,
        name="amazon-sp-order-items",
    ),
    path("reports/2021-06-30/reports", reports.reports, name="amazon-sp-reports"),
    path(
        "reports/2021-06-30/reports/<str:report_id>",
        reports.get_report,
        name="amazon-sp-report",
    ),
    path(
        "reports/2021-06-30/documents/<str:document_id>",
        reports.get_report_document,
        name="amazon-sp-report-document",
    ),
    path(
        "finances/v0/financialEventGroups",
        finances.list_financial_event_groups,
        name="amazon-sp-event-groups",
    ),
    path(
        "finances/v0/financialEventGroups/<str:group_id>/financialEvents",
        finances.list_financial_events_by_group,
        name="amazon-sp-group-events",
    ),
    path(
        "finances/2024-06-19/transactions",
        finances.list_transactions,
        name="amazon-sp-transactions",
    ),
    path("_s3/<str:document_id>", reports.document_download, name="amazon-sp-document-download"),
]
