"""Store a large sandbox seller (100,000 orders by default) for load tests and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.amazon.seed import seed_big_seller


class Command(BaseCommand):
    help = "Create a big sandbox Seller Central account (bulk inserts; ~1 minute per 100k orders)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--selling-partner-id", default="A2SANDBOXBIG1")
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--replace", action="store_true", help="Delete and regenerate an existing seller."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        seller = seed_big_seller(
            selling_partner_id=options["selling_partner_id"],
            orders=options["orders"],
            days=options["days"],
            seed=options["seed"],
            replace=options["replace"],
        )
        self.stdout.write(
            f"{seller.selling_partner_id}: {seller.order_set.count()} orders "
            f"({time.monotonic() - started:.1f}s)"
        )
