"""Random identifiers in the shapes Amazon uses (drawn from the caller's seeded `Random`)."""

from __future__ import annotations

import random
import string

ALNUM = string.ascii_letters + string.digits
B64URL = string.ascii_letters + string.digits + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits


def token(rng: random.Random, alphabet: str, length: int) -> str:
    """`length` characters of `alphabet`, from one draw of random bits."""
    bits = rng.getrandbits(6 * length + 8)
    base = len(alphabet)
    chars = []
    for _ in range(length):
        bits, index = divmod(bits, base)
        chars.append(alphabet[index])
    return "".join(chars)


def seeded(*parts: object) -> random.Random:
    """A generator for one stream of the dataset (``seeded("orders", 7)``).

    Seeding from a string is stable across runs and Python versions (it is hashed with
    SHA-512, not `hash()`), so each stream is reproducible on its own: adding orders does not
    change the catalogue. Not for secrets, and never the global `random` functions.
    """
    return random.Random(":".join(str(p) for p in parts))  # noqa: S311
