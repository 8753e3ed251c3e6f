"""Re-encrypt every stored secret with the first key in FERNET_KEYS.

Rotation: put the new key first in FERNET_KEYS (keep the old one after it), deploy, run this
command, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from connectors.vault import EncryptedJSONField, encrypted_fields, rotate


class Command(BaseCommand):
    help = "Re-encrypt all tokens with the newest key in FERNET_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model, field_name in encrypted_fields():
            field = model._meta.get_field(field_name)
            assert isinstance(field, EncryptedJSONField)
            column = str(field.column)
            table = model._meta.db_table
            qn = connection.ops.quote_name
            # Raw ciphertext in and out: the field's own conversion would decrypt and re-encrypt
            # with a fresh IV anyway, but rotate() keeps the original timestamp.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {qn(column)} FROM {qn(table)} "  # noqa: S608
                    f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
                )
                rows = cursor.fetchall()
                for pk, cipher in rows:
                    cursor.execute(
                        f"UPDATE {qn(table)} SET {qn(column)} = %s "  # noqa: S608
                        "WHERE id = %s",
                        [rotate(cipher), pk],
                    )
            total += len(rows)
            self.stdout.write(f"{model._meta.label}.{field_name}: {len(rows)} re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(f"{total} secret(s) now encrypted with the newest key.")
        )
