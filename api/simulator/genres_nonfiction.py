"""The non-fiction genres of the simulated bookstore (see `genres` for what a genre holds)."""

from __future__ import annotations

from api.simulator.genres import FICTION, Genre, words

HISTORY = Genre(
    name="History",
    rating_mean=4.0,
    price=(18, 35),
    weight=8,
    adjectives=words(
        "Forgotten|Great|Hidden|Lost|Long|Silent|Iron|Bitter|Golden|Last|Secret|Burning"
    ),
    nouns=words(
        "Empire|Revolution|War|Republic|Dynasty|Crusade|Siege|Plague|Silk Road|Treaty|"
        "Armada|Frontier"
    ),
    places=words(
        "Rome|Byzantium|the Ottoman Court|Medieval England|the Habsburg Lands|Ming China|"
        "Revolutionary France|the Aztec Empire|Victorian London|the Soviet Union"
    ),
    heroes=words(
        "an award-winning historian|a leading scholar of the period|a former war "
        "correspondent|a prize-winning archaeologist"
    ),
    topics=words(
        "the fall of empires|the Black Death|the Cold War|the Industrial Revolution|"
        "the age of exploration|the Napoleonic Wars|the Renaissance|ancient Egypt"
    ),
    titles=words(
        "The {adj} {noun}|{noun}: A History of {place}|The {noun} of {place}|"
        "The {adj} {noun} of {place}|Rise and Fall of the {noun}"
    ),
    openings=words(
        "Drawing on newly opened archives, {hero} retells {topic} as it was lived.|"
        "In this sweeping narrative history, {hero} takes us to {place}.|"
        "How did {place} shape the modern world? {hero} offers a bold new answer.|"
        "Few episodes have been as misunderstood as {topic}."
    ),
    middles=words(
        "From emperors and generals to peasants and merchants, the book brings the past "
        "vividly to life.|Battles, plagues, treaties and betrayals are told through letters, "
        "diaries and court records.|It traces the economic, political and religious forces "
        "behind {topic}, century by century."
    ),
    closings=words(
        "Authoritative, gripping and beautifully written narrative history.|"
        "Essential reading for anyone interested in {topic}.|"
        "With maps, illustrations and a full chronology.|"
        "History as it should be told: rigorous, humane and full of surprises."
    ),
    praise=words(
        "Reads like a novel but every page is sourced.|I learned so much about {topic}.|"
        "Superb narrative history.|The maps and the chronology are a great help."
    ),
    critique=words(
        "Dry and crammed with dates.|Too many names to keep track of.|A one-sided account "
        "that ignores recent scholarship."
    ),
)

BIOGRAPHY = Genre(
    name="Biography & Memoir",
    rating_mean=3.9,
    price=(16, 30),
    weight=7,
    adjectives=words("Unlikely|Restless|Extraordinary|Private|Brave|Wild|Brief|Reluctant|Long"),
    nouns=words("Life|Journey|Memoir|Years|Education|Voice|Road|Apprenticeship|Reckoning|Portrait"),
    places=words(
        "Harlem|Belfast|the Punjab|the Bronx|Soweto|Glasgow|Buenos Aires|Appalachia|Saigon|Detroit"
    ),
    heroes=words(
        "a pioneering scientist|a jazz legend|a mountaineer|an Olympic champion|a war "
        "photographer|a celebrated chef|a civil rights lawyer|a reformed con artist"
    ),
    topics=words(
        "resilience|fame and its price|growing up poor|addiction and recovery|courage|"
        "immigration|a life in music|a life in politics"
    ),
    titles=words(
        "{a_adj} {noun}|The {adj} {noun}|My {noun} in {place}|A {noun} in {place}|"
        "{name}: {a_adj} {noun}"
    ),
    openings=words(
        "Born in {place}, {hero} was never supposed to succeed.|"
        "In this candid memoir, {hero} tells the story behind the headlines.|"
        "{name} was nineteen when she left {place} with nothing but a suitcase.|"
        "The definitive biography of {hero}, drawn from interviews and private letters."
    ),
    middles=words(
        "Funny, raw and honest, it is a story of {topic} told without self-pity.|"
        "From early struggles to worldwide fame, every chapter reveals a complicated, "
        "unforgettable person.|Years of failure, a lucky break and a long reckoning with "
        "the past."
    ),
    closings=words(
        "An inspiring true story of {topic}.|"
        "A moving portrait of a remarkable life.|"
        "Told with warmth, wit and unflinching honesty.|"
        "The memoir everyone is talking about."
    ),
    praise=words(
        "Inspiring and honest.|Made me laugh and cry.|An incredible life, well told.|"
        "I could hear the author's voice on every page."
    ),
    critique=words(
        "Self-serving and shallow.|Skips the interesting years.|Reads like a long press release."
    ),
)

POPULAR_SCIENCE = Genre(
    name="Popular Science",
    rating_mean=4.2,
    price=(15, 32),
    weight=8,
    adjectives=words(
        "Hidden|Invisible|Elegant|Strange|Living|Curious|Deep|Secret|Restless|Quantum|Wild"
    ),
    nouns=words("Universe|Brain|Cell|Gene|Ocean|Climate|Code|Particle|Forest|Origins|Atom|Planet"),
    places=words(
        "the Deep Sea|the Cosmos|the Human Body|the Amazon|Antarctica|the Microbiome|"
        "the Laboratory|the Ice Age|the Milky Way|the Coral Reef"
    ),
    heroes=words(
        "a leading neuroscientist|an astrophysicist|a marine biologist|a climate scientist|"
        "an evolutionary biologist|a science journalist|a physicist and science writer"
    ),
    topics=words(
        "black holes|the human brain|evolution|climate change|genetics|quantum physics|"
        "the microbiome|artificial intelligence|consciousness|dinosaurs"
    ),
    titles=words(
        "The {adj} {noun}|{adj} {noun}|The {noun} Within|A Brief History of the {noun}|"
        "Inside {place}|The {noun} Problem"
    ),
    openings=words(
        "What do we really know about {topic}? In this book, {hero} takes us to the frontier.|"
        "In this lively tour of {place}, {hero} explains {topic} without equations.|"
        "Every one of us carries a {adj_l} {noun_l} we barely understand.|"
        "{hero} has spent twenty years studying {topic}."
    ),
    middles=words(
        "With clear explanations and surprising experiments, the book makes the latest "
        "research accessible to every reader.|From the smallest particle to the largest "
        "galaxy, it shows how science actually works.|It follows the scientists, the "
        "failures and the discoveries behind {topic}."
    ),
    closings=words(
        "Accessible, witty and mind-expanding.|"
        "The best introduction to {topic} for curious readers.|"
        "Science writing at its finest.|"
        "You will never look at {place} the same way again."
    ),
    praise=words(
        "Explains {topic} better than any textbook.|Fascinating and clear.|Full of facts I "
        "keep telling my friends.|Made physics fun."
    ),
    critique=words(
        "Oversimplified to the point of being wrong.|Padding around one good magazine "
        "article.|Too many anecdotes, too little science."
    ),
)

COOKING = Genre(
    name="Cooking",
    rating_mean=4.3,
    price=(20, 45),
    weight=8,
    adjectives=words(
        "Simple|Slow|Green|Sunday|Weeknight|Rustic|Fresh|Honest|Salt|Golden|Spiced|Whole"
    ),
    nouns=words("Kitchen|Table|Feast|Bread|Pantry|Harvest|Supper|Oven|Spice|Garden|Skillet|Bakery"),
    places=words("Tuscany|Oaxaca|Sicily|the Levant|Kerala|Provence|Tokyo|Istanbul|Lebanon|Vietnam"),
    heroes=words(
        "a Michelin-starred chef|a home cook and food writer|a baker|a self-taught "
        "grandmother|the founder of a beloved restaurant|a vegetarian chef"
    ),
    topics=words(
        "sourdough bread|vegetarian weeknight dinners|slow braises|one-pot meals|pasta|"
        "fermentation|baking|street food|seasonal vegetables|spices"
    ),
    titles=words(
        "The {adj} {noun}|{adj} {noun}|A {noun} in {place}|The {place} {noun}|"
        "{noun}: Recipes from {place}|Cooking with {name}"
    ),
    openings=words(
        "{hero} shares more than 100 recipes for {topic}.|"
        "From market to table, this cookbook celebrates the food of {place}.|"
        "Everyday recipes for {topic}, tested in a real home kitchen.|"
        "Bread, braises, salads and cakes: the {adj_l} cooking of {place}."
    ),
    middles=words(
        "Each recipe comes with step-by-step photographs, shopping tips and make-ahead "
        "notes.|Chapters on breakfast, soups, roasts, baking and desserts cover the whole "
        "year.|Spices, herbs, olive oil and seasonal vegetables are at the heart of every "
        "dish."
    ),
    closings=words(
        "A beautiful cookbook to keep by the stove.|"
        "Simple, generous food for family and friends.|"
        "With stunning photography from {place}.|"
        "The only book on {topic} you will ever need."
    ),
    praise=words(
        "Every recipe I tried worked the first time.|My copy is already splattered with "
        "sauce.|The bread chapter alone is worth it.|Gorgeous photos and easy recipes."
    ),
    critique=words(
        "Ingredients impossible to find outside a big city.|Pretty pictures, fussy recipes."
        "|Quantities are off; the cake sank twice."
    ),
)

BUSINESS = Genre(
    name="Business",
    rating_mean=3.4,
    price=(18, 40),
    weight=9,
    adjectives=words(
        "Lean|Radical|Hidden|Effective|Agile|Remote|Unfair|Smart|Deep|Lasting|Bold|Frugal"
    ),
    nouns=words(
        "Leader|Strategy|Startup|Advantage|Habit|Negotiation|Team|Growth|Decision|Market|"
        "Manager|Pitch"
    ),
    places=words(
        "Silicon Valley|Wall Street|the Boardroom|the Modern Workplace|the Factory Floor|"
        "Main Street|the Global Economy|the Digital Age"
    ),
    heroes=words(
        "a former CEO|a Harvard Business School professor|a serial entrepreneur|a venture "
        "capitalist|a management consultant|a behavioral economist"
    ),
    topics=words(
        "leadership|productivity|negotiation|innovation|personal finance|marketing|"
        "entrepreneurship|remote teams|investing|company culture"
    ),
    titles=words(
        "The {adj} {noun}|{adj} {noun}|The {noun} Playbook|Winning in {place}|"
        "The {noun} Mindset|{adj} {noun}s"
    ),
    openings=words(
        "Why do some companies thrive while others fail? {hero} has the answer.|"
        "{hero} distils thirty years of experience in {topic} into one practical guide.|"
        "The rules of {topic} have changed, in {place} and everywhere else.|"
        "Drawing on hundreds of interviews, {hero} explains what great teams do differently."
    ),
    middles=words(
        "With case studies, frameworks and checklists, it shows how to make better decisions "
        "under pressure.|Each chapter turns research on {topic} into habits any manager can "
        "adopt on Monday morning.|From the startup garage to the boardroom, the book "
        "reveals how strategy really gets made."
    ),
    closings=words(
        "An essential guide for leaders, founders and anyone who manages people.|"
        "Practical, evidence-based and surprisingly entertaining.|"
        "The {topic} book every entrepreneur should read.|"
        "A bestselling playbook for {topic} in the {adj_l} economy."
    ),
    praise=words(
        "Practical advice I used the next day at work.|Clear frameworks, no fluff.|Changed "
        "how I run my team.|Better than an MBA."
    ),
    critique=words(
        "One idea stretched over three hundred pages.|Airport-book clichés.|Full of "
        "survivorship bias and anecdotes."
    ),
)

#: The non-fiction genres, in catalog order.
NON_FICTION = (HISTORY, BIOGRAPHY, POPULAR_SCIENCE, COOKING, BUSINESS)

#: Every genre of the store, one category each, in catalog order.
GENRES: tuple[Genre, ...] = (*FICTION, *NON_FICTION)
