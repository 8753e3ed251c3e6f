"""Upload settlement files from Seller Central for a link (history beyond the 90-day window).

    manage.py settlements_upload --link 12 ~/Downloads/*.txt

Each file is kept, read completely and deduplicated exactly as on the upload page; settlements
that are final are then built (documents go to the ledger; the push posts them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors import http
from connectors.models import Link
from settlements import services


class Command(BaseCommand):
    help = "Upload Seller Central settlement files for a link and build what is final."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--link", type=int, required=True, help="The link's id.")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        link = (
            Link.objects.select_related("xero_tenant__grant", "seller_account")
            .filter(pk=options["link"], seller_account__isnull=False)
            .first()
        )
        if link is None:
            raise CommandError(f"No Seller Central link with id {options['link']}.")
        failed = 0
        for path in options["files"]:
            if not path.is_file():
                self.stderr.write(f"{path}: no such file.")
                failed += 1
                continue
            outcome = services.settlements_upload_files(link=link, files=[_Upload(path)], user=None)
            for line in outcome.done:
                self.stdout.write(line)
            for line in outcome.errors:
                self.stderr.write(line)
            failed += len(outcome.errors)
        try:
            built = services.settlements_build_due(link)
        except http.ProviderError as exc:
            raise CommandError(
                f"The files are kept, but Xero could not be read to build documents: "
                f"{exc.message}. They are built on the next sync."
            ) from exc
        self.stdout.write(f"{built} settlement(s) built for {link}.")
        if failed:
            raise CommandError(f"{failed} file(s) could not be used; nothing from them posted.")


class _Upload:
    """A file on disk, shaped like an uploaded file for the shared service."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self._path = path

    def read(self) -> bytes:
        return self._path.read_bytes()
