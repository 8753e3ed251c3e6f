from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from connectors import vault
from connectors.models import AmazonSellerAccount
from hub.models import Customer

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _raw_token(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM connectors_amazonselleraccount WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_tokens_are_ciphertext_at_rest_and_rotate_to_a_new_key(db, capsys) -> None:
    customer = Customer.objects.create(name="Vault Ltd")
    with override_settings(FERNET_KEYS=[OLD]):
        vault._fernet.cache_clear()
        account = AmazonSellerAccount.objects.create(
            customer=customer,
            name="EU",
            region="eu",
            selling_partner_id="A1VAULT",
            token={"refresh_token": "Atzr|secret-refresh", "access_token": "Atza|secret"},
        )
        raw = _raw_token(account.pk)
        assert "secret" not in raw and "Atzr" not in raw
        assert Fernet(OLD).decrypt(raw.encode())  # encrypted with the only key

    with override_settings(FERNET_KEYS=[NEW, OLD]):
        vault._fernet.cache_clear()
        call_command("rotate_fernet_keys")
        assert "1 secret(s) now encrypted with the newest key." in capsys.readouterr().out
        rotated = _raw_token(account.pk)
        assert rotated != raw
        assert Fernet(NEW).decrypt(rotated.encode())

    with override_settings(FERNET_KEYS=[NEW]):  # the old key can now be removed
        vault._fernet.cache_clear()
        fresh = AmazonSellerAccount.objects.get(pk=account.pk)
        assert fresh.token["refresh_token"] == "Atzr|secret-refresh"
    vault._fernet.cache_clear()


def test_a_removed_key_gives_a_clear_error(db) -> None:
    customer = Customer.objects.create(name="Vault Ltd")
    with override_settings(FERNET_KEYS=[OLD]):
        vault._fernet.cache_clear()
        account = AmazonSellerAccount.objects.create(
            customer=customer,
            name="EU",
            region="eu",
            selling_partner_id="A1VAULT2",
            token={"refresh_token": "x"},
        )
    with override_settings(FERNET_KEYS=[NEW]):
        vault._fernet.cache_clear()
        try:
            AmazonSellerAccount.objects.get(pk=account.pk)
        except RuntimeError as exc:
            assert "rotate_fernet_keys" in str(exc)
        else:
            raise AssertionError("decrypting with the wrong key must fail loudly")
    vault._fernet.cache_clear()
