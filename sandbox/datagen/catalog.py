"""The seller's products: a small seeded catalogue shared by every marketplace."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.datagen.ids import UPPER_DIGITS, token


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    asin: str
    title: str
    usd_cents: int
    referral_ppm: int
    fba_cents: int
    media: bool


_ADJECTIVES = (
    "Bamboo",
    "Steel",
    "Organic",
    "Compact",
    "Premium",
    "Foldable",
    "Wireless",
    "Ceramic",
    "Recycled",
    "Waterproof",
    "Vintage",
    "Ergonomic",
)
_NOUNS = (
    "Cutting Board",
    "Water Bottle",
    "Desk Lamp",
    "Yoga Mat",
    "Phone Stand",
    "Notebook Set",
    "Coffee Grinder",
    "Plant Pot",
    "Backpack",
    "Headphones",
    "Cookbook",
    "Garden Gloves",
    "Travel Mug",
    "Puzzle 1000 pcs",
)
_COLOURS = ("Black", "White", "Sage", "Navy", "Oak", "Red")


def make_catalog(rng: random.Random) -> list[Product]:
    products = []
    for n in range(40):
        noun = rng.choice(_NOUNS)
        colour = rng.choice(_COLOURS)
        media = noun in ("Cookbook", "Notebook Set", "Puzzle 1000 pcs")
        products.append(
            Product(
                sku=f"{noun[:3].upper()}-{1000 + n}-{colour[:3].upper()}",
                asin="B0" + token(rng, UPPER_DIGITS, 8),
                title=f"{rng.choice(_ADJECTIVES)} {noun}, {colour}",
                usd_cents=rng.randrange(6, 90) * 100 + 99,
                referral_ppm=150_000 if not media else 80_000,
                fba_cents=rng.choice((322, 340, 386, 475, 558)),
                media=media,
            )
        )
    return products
