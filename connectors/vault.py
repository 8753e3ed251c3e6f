"""The token vault: secrets encrypted at rest with Fernet, keys from ``FERNET_KEYS``.

``FERNET_KEYS`` lists keys newest first. The first encrypts; every key decrypts, so a new key can
be put in front and ``manage.py rotate_fernet_keys`` re-encrypts every stored secret with it
before the old key is removed.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise RuntimeError("FERNET_KEYS is empty: tokens cannot be encrypted.")
    return MultiFernet([Fernet(k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FERNET_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str:
    try:
        return fernet().decrypt(cipher.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            "A stored secret cannot be decrypted with FERNET_KEYS: was a key removed before "
            "rotate_fernet_keys re-encrypted everything with the new one?"
        ) from exc


def rotate(cipher: str) -> str:
    return fernet().rotate(cipher.encode()).decode()


if TYPE_CHECKING:
    _TextBase = models.Field[Any, Any]
else:
    _TextBase = models.TextField


class EncryptedJSONField(_TextBase):
    """A JSON value stored as Fernet ciphertext; Python code sees the decrypted value."""

    description = "JSON encrypted at rest with Fernet"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt(json.dumps(value, sort_keys=True))


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) that holds ciphertext, for key rotation."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedJSONField):
                found.append((model, field.name))
    return found
