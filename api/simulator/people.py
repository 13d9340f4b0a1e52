"""Who the simulated bookstore deals with: buyers and reviewers (each a distinct person), authors
and publishers, with plausible names, emails and addresses."""

from __future__ import annotations

import random
from dataclasses import dataclass

from api.simulator.genres import words
from write_side.ordering import Address

FIRST_NAMES = words(
    "Ada|Alan|Amara|Anders|Aiko|Alice|Amir|Ana|Andrei|Anna|Arjun|Astrid|Ayesha|Beatriz|Ben|"
    "Bianca|Carlos|Chen|Chloe|Clara|Daniel|Dara|David|Diego|Elena|Elif|Emma|Erik|Esther|Fatima|"
    "Felix|Fiona|Frances|Gabriel|Grace|Hana|Hannah|Hugo|Ibrahim|Ines|Isaac|Ivan|Jack|Jamal|"
    "James|Javier|Jin|Joao|Jonas|Julia|Kai|Karim|Kate|Kenji|Kofi|Lars|Laura|Layla|Leo|Lina|"
    "Lucas|Lucia|Maya|Mei|Marco|Margaret|Maria|Mateo|Miguel|Mira|Nadia|Noah|Nora|Olga|Omar|"
    "Oscar|Paolo|Priya|Rafael|Rahul|Rosa|Ruth|Sam|Sara|Sofia|Sven|Tariq|Thomas|Tomas|Uma|"
    "Victor|Wei|Yara|Yusuf|Zara|Zoe|Radia|Linus|Hedy|Edsger"
)
LAST_NAMES = words(
    "Adams|Ahmed|Alvarez|Andersen|Baker|Banerjee|Barros|Becker|Bennett|Berg|Brown|Campbell|"
    "Carter|Castro|Chen|Clarke|Costa|Cruz|Dahl|Das|Davies|Diaz|Dubois|Edwards|Eriksson|Evans|"
    "Fernandes|Fischer|Fontaine|Garcia|Gomez|Gonzalez|Green|Gupta|Hall|Hansen|Harris|Hoffmann|"
    "Hughes|Ibrahim|Ito|Jackson|Jensen|Johansson|Jones|Kaur|Keller|Khan|Kim|King|Klein|Kowalski|"
    "Kumar|Larsen|Lee|Lewis|Lindqvist|Lopez|Lovelace|Martin|Martins|Mehta|Mendes|Meyer|Moreau|"
    "Morris|Murphy|Nakamura|Nguyen|Nielsen|Novak|Okafor|Oliveira|Olsen|Park|Patel|Perez|Petrov|"
    "Phillips|Popescu|Quinn|Ramirez|Reyes|Richter|Rivera|Roberts|Rossi|Ruiz|Russo|Sanchez|"
    "Santos|Sato|Schmidt|Schneider|Silva|Singh|Smith|Sousa|Suzuki|Tanaka|Taylor|Thomas|Torres|"
    "Turner|Varga|Walker|Wang|Weber|White|Williams|Wilson|Wong|Wright|Yamamoto|Young|Zhang|"
    "Ziegler|Turing|Hopper"
)
_STREETS = words(
    "Maple|Oak|Cedar|Elm|Willow|Harbor|Mill|Church|Station|Park|Garden|River|Hill|Lake|King|"
    "Queen|Market|Bridge|Orchard|Chestnut|Meadow|Victoria|Castle|Forest"
)
_STREET_KINDS = words("Street|Avenue|Road|Lane|Way|Drive|Place|Crescent|Close|Terrace")
_CITIES = (
    ("Seattle", "Washington"),
    ("Portland", "Oregon"),
    ("Austin", "Texas"),
    ("Denver", "Colorado"),
    ("Boston", "Massachusetts"),
    ("Chicago", "Illinois"),
    ("Toronto", "Ontario"),
    ("Vancouver", "British Columbia"),
    ("Montreal", "Quebec"),
    ("Manchester", "Greater Manchester"),
    ("Bristol", "Somerset"),
    ("Edinburgh", "Lothian"),
    ("Dublin", "Leinster"),
    ("Melbourne", "Victoria"),
    ("Brisbane", "Queensland"),
    ("Auckland", "Auckland"),
    ("Cape Town", "Western Cape"),
    ("Minneapolis", "Minnesota"),
    ("Atlanta", "Georgia"),
    ("San Diego", "California"),
)
_MAIL_DOMAINS = words(
    "example.com|example.org|example.net|mail.example.com|inbox.example.org|post.example.net"
)
_PUBLISHER_WORDS = words(
    "Harbor|Lantern|Meridian|Quill|Atlas|Beacon|Summit|Oakleaf|Riverbend|Foxglove|Kestrel|"
    "Juniper|Ironwood|Bluebell|Northgate|Saltmarsh|Greystone|Larkspur|Wildfell|Corvid|Tidewater"
)
_PUBLISHER_KINDS = words("Press|Books|House|Publishing|Editions")


@dataclass(frozen=True, slots=True)
class Person:
    """A buyer or a reviewer: first and last name, unique among the simulation's people."""

    first: str
    last: str

    @property
    def name(self) -> str:
        """The full name."""
        return f"{self.first} {self.last}"


def people(rng: random.Random, count: int) -> list[Person]:
    """`count` people with distinct (first, last) names, in a seeded order.

    Single last names come first; when they run out, double-barrelled ones are made. Names are
    distinct so that one reviewer's feedback never collides with another's (the store keeps one
    feedback per book and reviewer names), whichever thread sends it first.
    """
    singles = len(FIRST_NAMES) * len(LAST_NAMES)
    chosen = [
        Person(FIRST_NAMES[i // len(LAST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)])
        for i in rng.sample(range(singles), min(count, singles))
    ]
    seen = set(chosen)
    while len(chosen) < count:
        first, last, other = rng.choice(FIRST_NAMES), *rng.sample(LAST_NAMES, 2)
        person = Person(first, f"{last}-{other}")
        if person not in seen:
            seen.add(person)
            chosen.append(person)
    return chosen


def email_of(person: Person, rng: random.Random) -> str:
    """A plausible email address for `person`."""
    first, last = person.first.lower(), person.last.lower()
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}", f"{first}{rng.randint(1, 99)}")
    )
    return f"{local}@{rng.choice(_MAIL_DOMAINS)}"


def address(rng: random.Random) -> Address:
    """A plausible postal address."""
    city, province = rng.choice(_CITIES)
    street = f"{rng.randint(1, 2400)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}"
    return Address(street=street, city=city, province=province)


def author_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct author names (some with a middle initial)."""
    names: list[str] = []
    while len(names) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        initial = f" {chr(ord('A') + rng.randrange(26))}." if rng.random() < 0.3 else ""
        name = f"{first}{initial} {last}"
        if name not in names:
            names.append(name)
    return names


def publisher_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct publisher names."""
    pairs = [(word, kind) for word in _PUBLISHER_WORDS for kind in _PUBLISHER_KINDS]
    return [f"{word} {kind}" for word, kind in rng.sample(pairs, count)]
