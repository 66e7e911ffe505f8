"""Word lists for synthetic company and person names, and the suffix variations orgs use."""

from __future__ import annotations

import random

_STEMS = [
    "Acme",
    "Apex",
    "Atlas",
    "Aurora",
    "Beacon",
    "Birch",
    "Blue",
    "Bright",
    "Cedar",
    "Cinder",
    "Clear",
    "Cobalt",
    "Copper",
    "Coral",
    "Crest",
    "Delta",
    "Ember",
    "Evergreen",
    "Falcon",
    "Fern",
    "Forge",
    "Frontier",
    "Golden",
    "Granite",
    "Harbor",
    "Helix",
    "Horizon",
    "Indigo",
    "Iron",
    "Juniper",
    "Keystone",
    "Lantern",
    "Lumen",
    "Maple",
    "Meridian",
    "Mosaic",
    "Nimbus",
    "North",
    "Nova",
    "Oak",
    "Onyx",
    "Orbit",
    "Pacific",
    "Peak",
    "Pine",
    "Pioneer",
    "Polar",
    "Prairie",
    "Quantum",
    "Quartz",
    "Radiant",
    "Redwood",
    "Ridge",
    "River",
    "Sable",
    "Sage",
    "Sequoia",
    "Silver",
    "Slate",
    "Solar",
    "Spruce",
    "Stellar",
    "Summit",
    "Tidal",
    "Timber",
    "True",
    "Union",
    "Vector",
    "Vertex",
    "Vista",
    "Willow",
    "Zenith",
]
_TAILS = [
    "Analytics",
    "Bio",
    "Capital",
    "Cloud",
    "Dynamics",
    "Energy",
    "Foods",
    "Freight",
    "Health",
    "Labs",
    "Logistics",
    "Media",
    "Networks",
    "Partners",
    "Pay",
    "Robotics",
    "Systems",
    "Software",
    "Solutions",
    "Retail",
    "Works",
    "Security",
    "Telecom",
]
_SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Corp.", "Co.", "Group", "PLC", "S.A.", "")
_FIRST = [
    "Ada",
    "Alan",
    "Alice",
    "Amir",
    "Ana",
    "Ben",
    "Carla",
    "Chen",
    "Dana",
    "David",
    "Elena",
    "Emma",
    "Farah",
    "Felix",
    "Grace",
    "Hana",
    "Ian",
    "Ines",
    "Jack",
    "Jana",
    "Kai",
    "Kofi",
    "Lara",
    "Leo",
    "Lina",
    "Luca",
    "Maya",
    "Mei",
    "Mila",
    "Nadia",
    "Noah",
    "Omar",
    "Olga",
    "Paul",
    "Priya",
    "Raj",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Tom",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
_LAST = [
    "Abbott",
    "Baker",
    "Becker",
    "Chen",
    "Costa",
    "Diaz",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hansen",
    "Ito",
    "Jensen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Smith",
    "Tanaka",
    "Torres",
    "Weber",
    "Wong",
    "Young",
    "Zhang",
]
INDUSTRIES = (
    "Technology",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Education",
    "Media",
    "Transportation",
    "Energy",
    "Hospitality",
)
TITLES = ("VP Operations", "Head of Support", "CTO", "Director of IT", "Product Manager", "CFO")


def company_name(rng: random.Random, index: int) -> tuple[str, str, str]:
    """(legal name, bare name, domain) for account number `index`; unique by construction."""
    stem = _STEMS[index % len(_STEMS)]
    tail = _TAILS[(index // len(_STEMS)) % len(_TAILS)]
    generation = index // (len(_STEMS) * len(_TAILS))
    bare = f"{stem} {tail}" + (f" {generation + 1}" if generation else "")
    suffix = rng.choice(_SUFFIXES)
    legal = f"{bare} {suffix}".strip()
    domain = bare.lower().replace(" ", "") + rng.choice((".com", ".io", ".co", ".net"))
    return legal, bare, domain


def name_variant(rng: random.Random, legal: str, bare: str) -> str:
    """A differently written form of a company name ("Acme Inc." -> "ACME, Inc")."""
    suffix = legal[len(bare) :].strip().rstrip(".")
    choice = rng.randrange(4)
    if choice == 0:
        return f"{bare.upper()}, {suffix}" if suffix else bare.upper()
    if choice == 1:
        return f"{bare}, {suffix}".rstrip(", ")
    if choice == 2:
        return bare
    return f"{bare.lower()} {suffix.lower()}".strip()


def person(rng: random.Random) -> tuple[str, str]:
    """(first name, last name)."""
    return rng.choice(_FIRST), rng.choice(_LAST)
