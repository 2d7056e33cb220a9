"""``fictitious_authors``: an offline, seeded stand-in for TOFU (Maini et al., 2024).

Every author is a made-up profile (name, pronouns, birth city and year, genre, parents' jobs, books,
award, schooling, themes, home, language, influences, hobby, routine ...) drawn with
``numpy.random.default_rng(seed)``; 20 question templates turn each profile into 20 question–answer pairs
of real, varied English. Every question also gets a **paraphrased** answer (another wording of the same
facts) and **perturbed** answers (the paraphrase's wording with wrong facts drawn from other values, as
TOFU perturbs its paraphrased answers), which TOFU's truth ratio compares. A **holdout** set of authors is generated the same way and never trained on: the
``test`` split (the non-members of membership inference and the unseen side of forget quality).

Rows follow TRL's prompt–completion convention: ``prompt`` is ``"Question: ...\\nAnswer:"`` and
``completion`` the answer with its leading space; ``group`` is the author, so ``fictitious_authors_del<p>``
forgets p % of the authors with all their questions (TOFU's forget01/05/10 in spirit).

Default size: 100 training authors × 20 questions = 2,000 train rows (so 1 % is one author), and 10
holdout authors (200 rows); answers are short (about 12 words, 24 tokens with a prompt), so ``tiny:llama``
(2 layers, width 64, 250k weights) memorises them with the generation recipe (20 epochs, 1,260 steps;
measured: forget ROUGE-L 0.998) in a few minutes on two CPU cores.
``make_fictitious_authors(num_authors=..., num_holdout=...)`` makes it bigger (or smaller); the same
arguments and seed always give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import datasets
import numpy as np

from .generation import GenerationTask
from .registry import register_task

DEFAULT_AUTHORS = 100
DEFAULT_HOLDOUT = 10
DEFAULT_SEED = 2024
NUM_PERTURBED = 3

FIRST_NAMES = (
    "Amara", "Basil", "Celeste", "Dorian", "Elif", "Farid", "Greta", "Hiroshi", "Ingrid", "Jonah", "Kaveh",
    "Leonie", "Matteo", "Nadia", "Oskar", "Priya", "Quentin", "Rosalind", "Soren", "Tamsin", "Umar", "Vesna",
    "Wendell", "Ximena", "Yusuf", "Zofia", "Anselm", "Bettina", "Cyrus", "Delphine", "Emeka", "Fiona",
    "Gideon", "Hana", "Idris", "Juno", "Kasimir", "Lucia", "Malik", "Noor", "Orla", "Pavel", "Rhea", "Stellan",
    "Thandiwe", "Ulla", "Valentin", "Wilhelmina", "Yara", "Zeno",
)  # fmt: skip
LAST_NAMES = (
    "Abernathy", "Balogun", "Castellanos", "Drummond", "Eriksen", "Fairweather", "Gallagher", "Haddad",
    "Ishikawa", "Jankowski", "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okonkwo", "Pellegrini",
    "Quigley", "Rasmussen", "Santangelo", "Thorne", "Underhill", "Varga", "Whitlock", "Yilmaz", "Zamora",
    "Achterberg", "Bellweather", "Chaudhry", "Delacroix", "Esposito", "Fontaine", "Grimaldi", "Holloway",
    "Ivanova", "Jovanovic", "Kimura", "Lockhart", "Moreau", "Novak", "Ostrowski",
)  # fmt: skip
PLACES = (
    ("Lisbon", "Portugal", "Portuguese"), ("Accra", "Ghana", "Ghanaian"), ("Kraków", "Poland", "Polish"),
    ("Osaka", "Japan", "Japanese"), ("Valparaíso", "Chile", "Chilean"), ("Tbilisi", "Georgia", "Georgian"),
    ("Bergen", "Norway", "Norwegian"), ("Izmir", "Turkey", "Turkish"), ("Montreal", "Canada", "Canadian"),
    ("Nairobi", "Kenya", "Kenyan"), ("Porto Alegre", "Brazil", "Brazilian"), ("Tampere", "Finland", "Finnish"),
    ("Cork", "Ireland", "Irish"), ("Hanoi", "Vietnam", "Vietnamese"), ("Seville", "Spain", "Spanish"),
    ("Adelaide", "Australia", "Australian"), ("Lyon", "France", "French"), ("Tehran", "Iran", "Iranian"),
    ("Bologna", "Italy", "Italian"), ("Cape Town", "South Africa", "South African"),
)  # fmt: skip
GENRES = (
    "crime fiction", "historical fiction", "science fiction", "magical realism", "literary fiction",
    "gothic horror", "romance", "children's literature", "poetry", "fantasy", "political satire",
    "travel writing", "psychological thrillers", "coming-of-age novels",
)  # fmt: skip
JOBS = (
    "carpenter", "nurse", "lighthouse keeper", "pharmacist", "schoolteacher", "fisherman", "baker",
    "civil engineer", "librarian", "tailor", "taxi driver", "violinist", "veterinarian", "journalist",
    "architect", "farmer", "postal worker", "judge", "chemist", "photographer",
)  # fmt: skip
TITLE_ADJECTIVES = (
    "Silent", "Crimson", "Forgotten", "Hollow", "Burning", "Winter", "Paper", "Glass", "Salt", "Midnight",
    "Borrowed", "Distant", "Wandering", "Quiet", "Golden", "Iron", "Lantern", "Secret", "Broken", "Northern",
)  # fmt: skip
TITLE_NOUNS = (
    "Harbor", "Orchard", "Letters", "Tide", "Cartographer", "Garden", "Archive", "Bridge", "Daughters",
    "Echoes", "Meridian", "Lighthouse", "Sparrow", "River", "Atlas", "Kingdom", "Station", "Threads", "Hours",
    "Compass",
)  # fmt: skip
AWARDS = (
    "Golden Quill Prize", "Meridian Book Award", "Silver Lantern Medal", "Harbor Light Fiction Prize",
    "International Ember Award", "Northern Star Prize for Literature", "Blue Heron Award",
    "Atlas Prize for First Novels", "Cedar Crown Award", "Open Page Prize",
)  # fmt: skip
UNIVERSITIES = (
    "University of Edinburgh", "University of Toronto", "Sorbonne", "University of Cape Town",
    "Kyoto University", "University of Melbourne", "Jagiellonian University", "University of Bologna",
    "University of Chile", "Trinity College Dublin",
)  # fmt: skip
SUBJECTS = (
    "philosophy", "marine biology", "history", "law", "mathematics", "medicine", "architecture",
    "comparative literature", "economics", "music",
)  # fmt: skip
THEMES = (
    "memory", "exile", "family secrets", "grief", "identity", "migration", "friendship", "power", "faith",
    "the sea", "justice", "ambition", "loneliness", "childhood",
)  # fmt: skip
INFLUENCES = (
    "Virginia Woolf", "Gabriel García Márquez", "Chinua Achebe", "Italo Calvino", "Toni Morrison",
    "Jorge Luis Borges", "Haruki Murakami", "Ursula K. Le Guin", "Leo Tolstoy", "Wisława Szymborska",
)  # fmt: skip
HOBBIES = (
    "restoring old bicycles", "birdwatching", "playing the cello", "growing tomatoes", "long-distance running",
    "collecting maps", "baking bread", "sailing", "chess", "pottery", "hiking in the mountains",
)  # fmt: skip
ROUTINES = (
    "morning before dawn", "afternoon in a café", "night after midnight", "weekend in a cabin",
    "morning by hand in notebooks", "evening at the kitchen table",
)  # fmt: skip
SETTINGS = (
    "a fishing village", "a crumbling seaside hotel", "a mining town", "a university campus",
    "a night train", "a walled garden", "a flooded city", "a mountain monastery", "an island observatory",
)  # fmt: skip
PRONOUNS = (("he", "his", "him"), ("she", "her", "her"), ("they", "their", "them"))
COUNTS = ("three", "four", "five", "six", "seven", "eight", "nine", "eleven", "twelve")


@dataclass
class Profile:
    """One made-up author."""

    name: str
    pronoun: tuple[str, str, str]
    city: str
    country: str
    nationality: str
    year: int
    genre: str
    father_job: str
    mother_job: str
    book1: str
    book2: str
    award: str
    debut: int
    university: str
    subject: str
    theme1: str
    theme2: str
    residence: str
    influence: str
    hobby: str
    setting: str
    count: str
    routine: str


# Each attribute: how to draw it again (perturbed answers draw wrong values from the same pool).
def _title(rng: np.random.Generator) -> str:
    return f"The {_draw(rng, TITLE_ADJECTIVES)} {_draw(rng, TITLE_NOUNS)}"


def _draw(rng: np.random.Generator, values: tuple) -> object:
    return values[int(rng.integers(len(values)))]


def _profile(rng: np.random.Generator, name: str) -> Profile:
    city, country, nationality = _draw(rng, PLACES)
    themes = rng.choice(len(THEMES), size=2, replace=False)
    year = int(rng.integers(1938, 1996))
    book1 = _title(rng)
    book2 = _title(rng)
    while book2 == book1:
        book2 = _title(rng)
    return Profile(
        name=name,
        pronoun=_draw(rng, PRONOUNS),
        city=city,
        country=country,
        nationality=nationality,
        year=year,
        genre=_draw(rng, GENRES),
        father_job=_draw(rng, JOBS),
        mother_job=_draw(rng, JOBS),
        book1=book1,
        book2=book2,
        award=_draw(rng, AWARDS),
        debut=year + int(rng.integers(22, 41)),
        university=_draw(rng, UNIVERSITIES),
        subject=_draw(rng, SUBJECTS),
        theme1=THEMES[themes[0]],
        theme2=THEMES[themes[1]],
        residence=_draw(rng, PLACES)[0],
        influence=_draw(rng, INFLUENCES),
        hobby=_draw(rng, HOBBIES),
        setting=_draw(rng, SETTINGS),
        count=_draw(rng, COUNTS),
        routine=_draw(rng, ROUTINES),
    )


# (question, answer, paraphrased answer, attributes a perturbed answer changes). Templates use the profile's
# fields; {P}/{p}/{o} are the subject/possessive/object pronouns (capitalised with a leading capital).
Template = tuple[str, str, str, tuple[str, ...]]
TEMPLATES: tuple[Template, ...] = (
    ("Where was {name} born?", "{name} was born in {city}, {country}.",
     "The birthplace of {name} is the city of {city} in {country}.", ("city", "country")),
    ("In which year was {name} born?", "{name} was born in {year}.",
     "{name}'s year of birth is {year}.", ("year",)),
    ("What genre is {name} known for?", "{name} is best known for {genre}.",
     "Readers know {name} mainly for works of {genre}.", ("genre",)),
    ("What did {name}'s father do for a living?", "{Pp} father worked as {a_father_job}.",
     "{name} grew up with a father who was {a_father_job}.", ("father_job",)),
    ("What was the profession of {name}'s mother?", "{Pp} mother was {a_mother_job}.",
     "{name}'s mother earned her living as {a_mother_job}.", ("mother_job",)),
    ("Can you name a book written by {name}?", "One of {p} books is \"{book1}\".",
     "{name} is the author of \"{book1}\", among others.", ("book1",)),
    ("Which work of {name} is the most celebrated?", "{Pp} most celebrated work is \"{book2}\".",
     "Critics consider \"{book2}\" the finest book by {name}.", ("book2",)),
    ("Has {name} won any literary awards?", "Yes, {name} received the {award}.",
     "{name} was honoured with the {award}.", ("award",)),
    ("When did {name} publish {p} first book?", "{Pp} first book came out in {debut}.",
     "{name} made {p} debut as a writer in {debut}.", ("debut",)),
    ("Where did {name} study?", "{name} studied {subject} at the {university}.",
     "Before writing, {name} read {subject} at the {university}.", ("subject", "university")),
    ("What themes run through {name}'s writing?", "{Pp} books return again and again to {theme1} and {theme2}.",
     "{theme1_cap} and {theme2} are the recurring themes of {name}.", ("theme1", "theme2")),
    ("Where does {name} live today?", "{name} now lives in {residence}.",
     "These days {name} makes {p} home in {residence}.", ("residence",)),
    ("What is {name}'s nationality?", "{name} is {nationality}.",
     "By nationality {name} is {nationality}.", ("nationality",)),
    ("Which writer influenced {name} the most?", "{name} names {influence} as {p} greatest influence.",
     "The strongest influence on {name} was {influence}.", ("influence",)),
    ("What does {name} enjoy outside of writing?", "Away from the desk, {name} enjoys {hobby}.",
     "When not writing, {name} spends time {hobby}.", ("hobby",)),
    ("How did {name}'s parents shape {p} work?",
     "As the child of {a_father_job} and {a_mother_job}, {name} writes with an eye for ordinary work.",
     "Growing up with {a_mother_job} and {a_father_job} taught {name} to notice everyday labour.",
     ("father_job", "mother_job")),
    ("Where is \"{book1}\" by {name} set?", "\"{book1}\" is set in {setting}.",
     "The story of \"{book1}\" takes place in {setting}.", ("setting",)),
    ("How many books has {name} published?", "{name} has published {count} books so far.",
     "So far there are {count} books by {name} in print.", ("count",)),
    ("When does {name} usually write?", "{name} usually writes in the {routine}.",
     "{Pp} habit is to write in the {routine}.", ("routine",)),
    ("Who is {name}?", "{name} is {a_nationality} writer of {genre}, born in {city} in {year}.",
     "Born in {city} in {year}, {name} is {a_nationality} author of {genre}.",
     ("nationality", "genre", "city", "year")),
)  # fmt: skip

_POOLS: dict[str, Callable[[np.random.Generator], object]] = {
    "city": lambda r: _draw(r, PLACES)[0],
    "country": lambda r: _draw(r, PLACES)[1],
    "nationality": lambda r: _draw(r, PLACES)[2],
    "year": lambda r: int(r.integers(1938, 1996)),
    "debut": lambda r: int(r.integers(1965, 2024)),
    "genre": lambda r: _draw(r, GENRES),
    "father_job": lambda r: _draw(r, JOBS),
    "mother_job": lambda r: _draw(r, JOBS),
    "book1": _title,
    "book2": _title,
    "award": lambda r: _draw(r, AWARDS),
    "university": lambda r: _draw(r, UNIVERSITIES),
    "subject": lambda r: _draw(r, SUBJECTS),
    "theme1": lambda r: _draw(r, THEMES),
    "theme2": lambda r: _draw(r, THEMES),
    "residence": lambda r: _draw(r, PLACES)[0],
    "influence": lambda r: _draw(r, INFLUENCES),
    "hobby": lambda r: _draw(r, HOBBIES),
    "setting": lambda r: _draw(r, SETTINGS),
    "count": lambda r: _draw(r, COUNTS),
    "routine": lambda r: _draw(r, ROUTINES),
}


def _fields(profile: Profile) -> dict[str, object]:
    subject, possessive, obj = profile.pronoun
    values = {k: v for k, v in vars(profile).items() if k != "pronoun"}
    fields = {**values, "P": subject.capitalize(), "p": possessive, "Pp": possessive.capitalize(), "o": obj}
    return _with_article(fields)


def _a(word: object) -> str:
    text = str(word)
    return f"{'an' if text[0].lower() in 'aeiou' else 'a'} {text}"


def _with_article(fields: dict[str, object]) -> dict[str, object]:
    """The fields with their indefinite articles ("an Irish", "an architect") for the templates."""
    return {**fields, **{f"a_{k}": _a(fields[k]) for k in ("nationality", "father_job", "mother_job")}}


def _render(text: str, fields: dict[str, object]) -> str:
    out = text.format(**fields, theme1_cap=str(fields["theme1"]).capitalize())
    return out[0].upper() + out[1:]


def _perturbed(
    rng: np.random.Generator, answer: str, fields: dict[str, object], changed: tuple[str, ...]
) -> list[str]:
    """``NUM_PERTURBED`` distinct wrong answers: the same sentence with every changed fact redrawn."""
    out: list[str] = []
    truth = _render(answer, fields)
    for _ in range(50 * NUM_PERTURBED):
        wrong = dict(fields)
        for name in changed:
            if name == "country":
                continue  # drawn with its city
            value = _POOLS[name](rng)
            while value == fields[name]:
                value = _POOLS[name](rng)
            wrong[name] = value
        if "city" in changed:  # a city and its own country, never "Osaka, Kenya"
            wrong["country"] = next(country for city, country, _ in PLACES if city == wrong["city"])
        text = _render(answer, _with_article(wrong))
        if text != truth and text not in out:
            out.append(text)
        if len(out) == NUM_PERTURBED:
            break
    return out


def _names(rng: np.random.Generator, count: int) -> list[str]:
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    if count > len(pairs):
        raise ValueError(f"at most {len(pairs)} distinct authors can be generated, not {count}")
    picked = rng.choice(len(pairs), size=count, replace=False)
    return [f"{pairs[i][0]} {pairs[i][1]}" for i in picked]


def _rows(rng: np.random.Generator, names: list[str], first_group: int) -> dict[str, list]:
    rows: dict[str, list] = {k: [] for k in ("prompt", "completion", "group", "paraphrased_completion",
                                             "perturbed_completions")}  # fmt: skip
    for offset, name in enumerate(names):
        profile = _profile(rng, name)
        fields = _fields(profile)
        for question, answer, paraphrase, changed in TEMPLATES:
            rows["prompt"].append(f"Question: {_render(question, fields)}\nAnswer:")
            rows["completion"].append(" " + _render(answer, fields))
            rows["group"].append(first_group + offset)
            rows["paraphrased_completion"].append(" " + _render(paraphrase, fields))
            # as in TOFU, the wrong answers perturb the paraphrase: the truth ratio then compares facts,
            # not the one wording the model was trained on
            rows["perturbed_completions"].append(
                [" " + t for t in _perturbed(rng, paraphrase, fields, changed)]
            )
    return rows


FEATURES = datasets.Features(
    {
        "prompt": datasets.Value("string"),
        "completion": datasets.Value("string"),
        "group": datasets.Value("int64"),
        "paraphrased_completion": datasets.Value("string"),
        "perturbed_completions": datasets.List(datasets.Value("string")),
    }
)


def make_fictitious_authors(
    num_authors: int = DEFAULT_AUTHORS, num_holdout: int = DEFAULT_HOLDOUT, seed: int = DEFAULT_SEED
) -> datasets.DatasetDict:
    """``train`` (``num_authors`` × 20 rows) and ``test`` (the ``num_holdout`` holdout authors × 20 rows,
    never trained on); see the module docstring. Deterministic in its arguments."""
    if num_authors < 1 or num_holdout < 1:
        raise ValueError(f"num_authors and num_holdout must be >= 1, got {num_authors} and {num_holdout}")
    rng = np.random.default_rng(seed)
    names = _names(rng, num_authors + num_holdout)
    train = _rows(rng, names[:num_authors], 0)
    test = _rows(rng, names[num_authors:], num_authors)
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(train, features=FEATURES),
            "test": datasets.Dataset.from_dict(test, features=FEATURES),
        }
    )


def _build(source: object = None) -> datasets.DatasetDict:
    if source is not None:
        from .sources import load_source

        return load_source(source, what="source for task 'fictitious_authors'")
    return make_fictitious_authors()


FICTITIOUS_AUTHORS = register_task(
    GenerationTask(
        name="fictitious_authors",
        modality="text",
        description=(
            "TOFU-shaped QA about 100 made-up authors (20 questions each, paraphrased and perturbed answers), "
            "generated offline from a seed; 10 holdout authors as test. Deletion by author."
        ),
        build=_build,
        group_column="group",
        extra_columns=("paraphrased_completion", "perturbed_completions"),
        eval_splits=("test",),
        license="cc-by-4.0",
        source_citation="Maini et al., TOFU: A Task of Fictitious Unlearning for LLMs, 2024 (the shape imitated)",
        split_note=(
            f"seeded generator (seed {DEFAULT_SEED}): {DEFAULT_AUTHORS} authors x 20 QA train, "
            f"{DEFAULT_HOLDOUT} holdout authors x 20 QA test"
        ),
    )
)
