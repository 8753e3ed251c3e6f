from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.seed import sandbox_seed


class Command(BaseCommand):
    help = "Seed the sandbox: Xero organisations and users, the hub's apps, a seller and a buyer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site-url", default=settings.SITE_URL)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--orders", type=int, default=500)
        parser.add_argument("--purchases", type=int, default=120)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX:
            raise CommandError("SANDBOX is off: refusing to seed simulated data.")
        for line in sandbox_seed(
            site_url=options["site_url"],
            seed=options["seed"],
            days=options["days"],
            orders=options["orders"],
            purchases=options["purchases"],
        ):
            self.stdout.write(line)
