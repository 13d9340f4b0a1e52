"""The ten genres of the simulated bookstore: the words its titles, blurbs and reviews are made of.

Each genre has a vocabulary of its own (a mystery has detectives and alibis, a cookbook has
braises and sourdough), so that a full-text search of the catalog finds what a reader would
expect, and a mean rating and a price range of its own, so that analytics have differences to
show. Fiction genres are in this module, non-fiction ones in `genres_nonfiction`.
"""

from __future__ import annotations

from dataclasses import dataclass


def words(text: str) -> tuple[str, ...]:
    """The `|`-separated items of `text` (items may hold spaces), trimmed."""
    return tuple(item.strip() for item in text.split("|") if item.strip())


@dataclass(frozen=True)
class Genre:
    """A category of books and the vocabulary its books are written in.

    Title patterns and blurb sentences are `str.format` templates over the genre's slots:
    `{adj}`, `{noun}`, `{place}`, `{hero}`, `{topic}`, `{name}` (a character's first name),
    lower-case forms `{adj_l}`, `{noun_l}`, and `{a_adj}` (the adjective with its article).
    `rating_mean` is the genre's average rating out of 5; `price` the range of list prices in
    whole units; `weight` how often readers prefer it.
    """

    name: str
    rating_mean: float
    price: tuple[int, int]
    weight: int
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    places: tuple[str, ...]
    heroes: tuple[str, ...]
    topics: tuple[str, ...]
    titles: tuple[str, ...]
    openings: tuple[str, ...]
    middles: tuple[str, ...]
    closings: tuple[str, ...]
    praise: tuple[str, ...]
    critique: tuple[str, ...]


LITERARY_FICTION = Genre(
    name="Literary Fiction",
    rating_mean=3.9,
    price=(12, 24),
    weight=14,
    adjectives=words(
        "Quiet|Borrowed|Unfinished|Salt|Paper|Winter|Distant|Ordinary|Tender|Late|Small|"
        "Amber|Lonely|Bright|Faded"
    ),
    nouns=words(
        "Summer|House|Daughter|River|Letters|Silence|Garden|Inheritance|Harvest|Orchard|"
        "Season|Marriage|Kitchen|Field|Promise"
    ),
    places=words(
        "Lisbon|the Fens|Galway|Vermont|Trieste|the Hebrides|Kyoto|Naples|Odessa|Tasmania"
    ),
    heroes=words(
        "a widowed piano teacher|two estranged sisters|a retired ferryman|a young translator|"
        "a grieving father|a restless schoolteacher|an aging actress|a night-shift nurse"
    ),
    topics=words("grief|memory|family|belonging|forgiveness|ambition|first love|exile"),
    titles=words(
        "The {adj} {noun}|{adj} {noun}|A {noun} in {place}|The {noun} at {place}|"
        "What the {noun} Kept|The Last {noun}|{name}'s {noun}"
    ),
    openings=words(
        "{hero} returns to {place} after twenty years away.|"
        "In a {adj_l} year in {place}, {hero} finds a bundle of letters that change everything.|"
        "{name} has spent a lifetime avoiding the {noun_l} her mother left behind.|"
        "Told over a single summer in {place}, this is the story of {hero}."
    ),
    middles=words(
        "As old wounds reopen, {name} must decide what she owes to {topic} and to herself.|"
        "Between long silences and small kindnesses, a family learns to speak of {topic}.|"
        "The novel moves between past and present, tracing how {topic} shapes three "
        "generations.|A chance meeting on a ferry becomes a quiet meditation on {topic}."
    ),
    closings=words(
        "A luminous, heartbreaking novel about {topic} and the homes we carry within us.|"
        "Lyrical and unsentimental, it marks the arrival of a major literary voice.|"
        "Shortlisted for the {adj} Prize for fiction.|"
        "A tender portrait of {place} and of the people who never quite leave it."
    ),
    praise=words(
        "Beautiful prose; I read it slowly to make it last.|The characters stayed with me "
        "for weeks.|Quiet, wise and deeply moving.|The ending made me cry on the train."
    ),
    critique=words(
        "Lovely sentences, but nothing happens for two hundred pages.|Too slow for me; I gave "
        "up halfway.|Overwritten and self-important."
    ),
)

MYSTERY = Genre(
    name="Mystery & Thriller",
    rating_mean=3.8,
    price=(10, 20),
    weight=14,
    adjectives=words(
        "Silent|Crimson|Cold|Hidden|Dead|Broken|Dark|Midnight|Frozen|Fatal|Missing|Burning"
    ),
    nouns=words(
        "Witness|Alibi|Harbor|Evidence|Confession|Verdict|Inheritance|Stranger|Motive|"
        "Cellar|Ledger|Lock"
    ),
    places=words(
        "Oslo|Edinburgh|Marseille|Baltimore|the Moors|Venice|Hamburg|a Cornish Village|"
        "Reykjavik|New Orleans"
    ),
    heroes=words(
        "Detective Inspector Mara Quinn|a disgraced forensic accountant|a retired homicide "
        "detective|a small-town coroner|an insomniac crime reporter|a former MI6 analyst"
    ),
    topics=words(
        "a string of poisonings|a missing heiress|a locked-room murder|a stolen painting|"
        "a cold case|a body in the harbor|a witness who vanished"
    ),
    titles=words(
        "The {adj} {noun}|{adj} {noun}|The {noun} of {place}|Murder in {place}|"
        "The {place} {noun}|Death at the {noun}|No {noun} for {name}"
    ),
    openings=words(
        "When {topic} shakes {place}, {hero} is called back for one last case.|"
        "{hero} has seven days to solve {topic} before the killer strikes again.|"
        "The body was found at dawn, and {hero} knew at once it was no accident.|"
        "Nobody in {place} wants to talk about {topic}, least of all the police."
    ),
    middles=words(
        "Every suspect has an alibi, every alibi has a hole, and the clues point to someone "
        "close.|As the investigation deepens, {name} uncovers a conspiracy of corruption and "
        "revenge.|With the press circling and a ruthless killer one step ahead, the detective "
        "must trust no one.|A forged ledger, a cold fingerprint and a lie told twenty years "
        "ago."
    ),
    closings=words(
        "A pulse-pounding thriller with a twist you will not see coming.|"
        "Tense, atmospheric and impossible to put down.|"
        "The first in a gripping new detective series set in {place}.|"
        "A clever whodunit in the classic tradition, with a modern edge."
    ),
    praise=words(
        "Kept me guessing until the very last chapter.|Could not put it down; read it in one "
        "night.|Brilliant twist, I never suspected the killer.|Dark, tense and clever."
    ),
    critique=words(
        "I guessed the murderer by page fifty.|Too many suspects and a rushed ending.|"
        "The twist felt cheap and the detective is a cliché."
    ),
)

SCIENCE_FICTION = Genre(
    name="Science Fiction",
    rating_mean=3.7,
    price=(11, 22),
    weight=9,
    adjectives=words(
        "Last|Quantum|Hollow|Distant|Iron|Silent|Red|Dark|Infinite|Broken|Ancient|Orbital"
    ),
    nouns=words(
        "Star|Signal|Colony|Machine|Horizon|Empire|Drift|Protocol|Frontier|Engine|Station|Relay"
    ),
    places=words(
        "Mars|Europa|the Outer Belt|Proxima|the Ring Cities|Titan|the Kuiper Line|"
        "a Generation Ship|Old Earth|the Void"
    ),
    heroes=words(
        "a starship engineer|an android who dreams|a rogue AI|the last pilot of the fleet|"
        "a xenolinguist|a colony medic|a time-displaced soldier|a salvage crew"
    ),
    topics=words(
        "first contact|a dying sun|artificial intelligence|faster-than-light travel|"
        "terraforming|a galactic war|a signal from deep space"
    ),
    titles=words(
        "The {adj} {noun}|{noun} of {place}|{adj} {noun}|Beyond the {noun}|"
        "The {place} {noun}|{noun} Zero|Children of the {noun}"
    ),
    openings=words(
        "Three hundred years after Earth fell silent, {hero} receives {topic}.|"
        "On {place}, {hero} discovers that the colony's oxygen will run out in ninety days.|"
        "{name} was built to serve the fleet, until {topic} changed the rules.|"
        "When {topic} reaches {place}, humanity has one chance to answer."
    ),
    middles=words(
        "A desperate voyage across the stars forces the crew to question what it means to be "
        "human.|Between alien ruins and a rebellion on the orbital station, {name} uncovers "
        "an ancient machine.|As the empire crumbles, a small crew races a collapsing wormhole."
        "|Hard science and big ideas collide in a story of survival, memory and {topic}."
    ),
    closings=words(
        "A mind-bending space opera for readers of classic science fiction.|"
        "Epic in scope and intimate in feeling, a landmark of the genre.|"
        "The first book of the {noun} trilogy.|"
        "A thrilling vision of the future and a warning about the present."
    ),
    praise=words(
        "Big ideas and real science; loved the worldbuilding.|The alien contact scenes are "
        "stunning.|Best space opera I have read in years.|Clever, strange and unforgettable."
    ),
    critique=words(
        "Too much technobabble and not enough story.|Flat characters lost in a huge "
        "universe.|The ending collapses under its own ideas."
    ),
)

FANTASY = Genre(
    name="Fantasy",
    rating_mean=4.1,
    price=(12, 26),
    weight=11,
    adjectives=words(
        "Shattered|Thorned|Golden|Shadow|Ember|Wild|Cursed|Hollow|Crowned|Silver|Ashen|Wyrd"
    ),
    nouns=words("Crown|Throne|Dragon|Sword|Witch|Kingdom|Oath|Forest|Tower|Prophecy|Queen|Rune"),
    places=words(
        "Eldmoor|the Ashen Wastes|Vharrow|the Silver Isles|Dunmere|the Northern Reach|"
        "Kaelith|the Sunken City|Brightwater|the Witchwood"
    ),
    heroes=words(
        "a reluctant heir|an exiled sorceress|a thief with a stolen name|the last dragon "
        "rider|a blacksmith's daughter|a disgraced knight|a young witch"
    ),
    topics=words(
        "an ancient prophecy|a war between kingdoms|forbidden magic|a dragon's awakening|"
        "a stolen crown|a curse on the royal line"
    ),
    titles=words(
        "The {adj} {noun}|{noun} of {place}|A {noun} of {adj} Fire|The {noun} and the "
        "{adj} {noun}|{adj} {noun}|The {place} {noun}"
    ),
    openings=words(
        "In {place}, where magic is forbidden, {hero} hides a dangerous gift.|"
        "{name} never wanted the {noun_l}, but {topic} will not wait.|"
        "When {topic} returns to {place}, {hero} must cross a kingdom at war.|"
        "The old gods are stirring, and only {hero} can hear them."
    ),
    middles=words(
        "Hunted by witches, bound by an oath and haunted by a dragon, {name} must choose "
        "between the crown and the people she loves.|Court intrigue, blood magic and a "
        "slow-burning romance drive an epic quest across {place}.|Allies become enemies as "
        "the prophecy unfolds and the kingdom teeters on the edge of war."
    ),
    closings=words(
        "An enchanting epic fantasy, the first of a sweeping new series.|"
        "Rich worldbuilding, fierce heroines and magic with a cost.|"
        "For readers who love dragons, court politics and found family.|"
        "A spellbinding tale of power, sacrifice and {topic}."
    ),
    praise=words(
        "The magic system is original and the dragons are glorious.|I was swept away by this "
        "world.|Fierce heroine, great villain, can't wait for book two.|Pure escapism."
    ),
    critique=words(
        "Another chosen one and another prophecy.|The map was more interesting than the "
        "plot.|Far too long; the middle book syndrome starts in book one."
    ),
)

ROMANCE = Genre(
    name="Romance",
    rating_mean=4.0,
    price=(8, 16),
    weight=12,
    adjectives=words(
        "Sweet|Summer|Perfect|Secret|Accidental|Sunlit|Reckless|Stolen|Second|Little|Lucky"
    ),
    nouns=words("Kiss|Wedding|Bakery|Bookshop|Vineyard|Promise|Proposal|Heart|Chance|Bargain|Date"),
    places=words(
        "Paris|Cornwall|Tuscany|a Small Seaside Town|Manhattan|the Highlands|Provence|"
        "Nashville|a Greek Island|Copenhagen"
    ),
    heroes=words(
        "a jilted wedding planner|a grumpy bookshop owner|a single dad and chef|a runaway "
        "bride|a celebrity baker|two rival florists|a vet new in town"
    ),
    topics=words(
        "second chances|fake dating|enemies to lovers|a holiday romance|a marriage of "
        "convenience|falling for the boss"
    ),
    titles=words(
        "The {adj} {noun}|{a_adj} {noun} in {place}|{noun} in {place}|The {noun} Next "
        "Door|Our {adj} {noun}|{name} and the {noun}"
    ),
    openings=words(
        "{hero} swore off love for good, until a summer in {place}.|"
        "{name} needs a date for her sister's wedding, and the only candidate is her rival.|"
        "When {hero} inherits a crumbling {noun_l} in {place}, she expects anything but love.|"
        "It was supposed to be a fake engagement: {topic}, with rules."
    ),
    middles=words(
        "Sparks fly, rules get broken and the banter is as warm as the {place} sun.|Between "
        "burnt croissants and midnight confessions, two wary hearts start to open.|Old "
        "heartbreak, meddling friends and one perfect kiss complicate everything."
    ),
    closings=words(
        "A swoony, feel-good romantic comedy with a guaranteed happy ending.|"
        "Heartwarming, funny and full of {topic}.|"
        "The perfect beach read for fans of {topic}.|"
        "A sweet, steamy love story you will want to read twice."
    ),
    praise=words(
        "Swoon! The banter is perfect.|Funny, warm and romantic: exactly what I needed.|"
        "I loved the grumpy hero.|Comfort reading at its best."
    ),
    critique=words(
        "Predictable from the first page.|The misunderstanding could be solved in one "
        "conversation.|Too much insta-love for my taste."
    ),
)

#: The fiction genres, in catalog order.
FICTION = (LITERARY_FICTION, MYSTERY, SCIENCE_FICTION, FANTASY, ROMANCE)
