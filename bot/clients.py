"""Who a client is, grammatically: a woman, a man, a company or just a name.

One function, :func:`classify`, decides the kind of a client's name ("Frau Keller",
"Herrn Brandt", "Müller GmbH", "Firma Müller", "Autohaus Brandl", "Anna Keller"); every text
whose pronoun, article or salutation depends on the client takes its forms from
:func:`forms`. Vocabulary and forms live in ``texts/clients.yml``. Pure: no Rasa, no storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.answers import normalize
from bot.texts import lookup, text

FEMALE, MALE, COMPANY, NAME, WORD, NONE = "female", "male", "company", "name", "word", "none"
#: a company word of at least this many letters also counts at the end of a compound
COMPOUND_MIN = 6


@dataclass(frozen=True)
class Client:
    """A client's name and what kind of name it is.

    Attributes:
        name: The name as the coach writes it: title normalised ("Herrn" -> "Herr"), no
            leading article; empty for no client.
        kind: ``female`` | ``male`` | ``company`` | ``name`` (two or more words, unknown
            person or company) | ``word`` (one word, unknown) | ``none`` (no name).
        gender: The grammatical gender of a company (``feminine`` | ``neuter`` |
            ``masculine``), None otherwise.
        surname: The name without its title ("Dr. Keller"); the name itself for others.
    """

    name: str
    kind: str
    gender: str | None = None
    surname: str = ""

    @property
    def forms_key(self) -> str:
        """The entry of ``forms`` in ``texts/clients.yml`` for this client."""
        return f"company_{self.gender}" if self.kind == COMPANY else self.kind


def _key(word: str) -> str:
    """A word compared with the vocabulary: case-folded, without dots."""
    return word.casefold().replace(".", "")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[str, str], dict[str, str], dict[str, str], frozenset[str]]:
    """(title -> kind, legal form -> gender, company word -> gender, articles)."""
    titles = {_key(w): kind for kind, words in lookup("clients", "titles").items() for w in words}
    legal = {
        _key(w): gender for gender, words in lookup("clients", "legal_forms").items() for w in words
    }
    words = {
        _key(w): gender
        for gender, items in lookup("clients", "company_words").items()
        for w in items
    }
    articles = frozenset(_key(w) for w in lookup("clients", "articles"))
    return titles, legal, words, articles


def _company_gender(tokens: list[str]) -> str | None:
    """The grammatical gender of a company name, None if it does not look like a company."""
    _, legal, words, _ = _vocabulary()
    if len(tokens) > 1 and _key(tokens[-1]) in legal:  # "… GmbH": the legal form decides
        return legal[_key(tokens[-1])]
    for token in tokens:
        key = _key(token)
        if key in words:
            return words[key]
        for word, gender in words.items():
            if len(word) >= COMPOUND_MIN and key.endswith(word) and key != word:
                return gender
    return None


def classify(name: str | None) -> Client:
    """Decide what kind of client a name stands for.

    Args:
        name: The client's name as typed or stored ("Frau Keller", "Herrn Brandt",
            "die Müller GmbH", "Firma Müller"), or None/empty for no name.

    Returns:
        The :class:`Client` with the normalised name, its kind and (companies) gender.
    """
    cleaned = re.sub(r"\s+", " ", name or "").strip()
    if not cleaned:
        return Client(name="", kind=NONE)
    titles, _, _, articles = _vocabulary()
    tokens = cleaned.split(" ")
    if len(tokens) > 1 and _key(tokens[0]) in titles:
        kind = titles[_key(tokens[0])]
        surname = " ".join(tokens[1:])
        shown = text("clients", f"forms.{kind}.client_name", surname=surname)
        return Client(name=shown, kind=kind, surname=surname)
    if len(tokens) > 1 and _key(tokens[0]) in articles:
        tokens = tokens[1:]
        cleaned = " ".join(tokens)
    gender = _company_gender(tokens)
    if gender:
        return Client(name=cleaned, kind=COMPANY, gender=gender, surname=cleaned)
    return Client(name=cleaned, kind=NAME if len(tokens) > 1 else WORD, surname=cleaned)


#: the placeholders :func:`forms` fills (every text that mentions a client may use them)
FORM_KEYS = (
    "client",
    "client_dative",
    "client_acc",
    "client_name",
    "client_pron",
    "client_pron_acc",
    "client_pron_dat",
    "client_salutation",
    "client_to",
    "client_about",
)


def forms(name: str | Client | None) -> dict[str, str]:
    """The placeholder values for a client: cases, label, pronouns, salutation.

    Args:
        name: The client's name (or an already classified :class:`Client`); None or empty
            for no client ("der Kunde").

    Returns:
        A mapping of every name in :data:`FORM_KEYS` to its text, e.g. for "Herrn Brandt"
        ``client`` "Herr Brandt", ``client_dative`` "Herrn Brandt", ``client_salutation``
        "Sehr geehrter Herr Brandt", ``client_to`` "zu Herrn Brandt", ``client_about``
        "über Herrn Brandt".
    """
    client = name if isinstance(name, Client) else classify(name)
    key = f"forms.{client.forms_key}"
    return {
        part: text("clients", f"{key}.{part}", name=client.name, surname=client.surname)
        for part in FORM_KEYS
    }


@lru_cache(maxsize=1)
def _mention_words() -> frozenset[str]:
    titles, _, _, articles = _vocabulary()
    words = frozenset(_key(w) for w in lookup("clients", "mention_words"))
    return words | frozenset(titles) | articles


def match_key(name: str | None) -> str:
    """The core of a client's name, by which a mention is matched against stored names.

    Args:
        name: A name as stored ("Herr Brandt", "Müller GmbH") or as mentioned in a message
            ("herrn brandt", "der Firma Müller", "bei Müller").

    Returns:
        The name without leading prepositions, articles, titles and "Firma" and without a
        trailing legal form, case-folded with umlauts spelt out ("brandt", "mueller"); empty
        for no name. A name made of such words only keeps its last word.
    """
    tokens = re.sub(r"\s+", " ", name or "").strip().split(" ")
    skip = _mention_words()
    while len(tokens) > 1 and _key(tokens[0]) in skip:
        tokens = tokens[1:]
    _, legal, _, _ = _vocabulary()
    if len(tokens) > 1 and _key(tokens[-1]) in legal:
        tokens = tokens[:-1]
    return normalize(" ".join(tokens))


#: kinds that may stand for any other kind ("Brandt" may be "Herr Brandt")
_OPEN_KINDS = frozenset({NAME, WORD, NONE})


def same_client(a: str | None, b: str | None) -> bool:
    """Whether two names stand for the same client.

    Args:
        a: A name as mentioned or typed ("mit Herrn Brandt", "der Firma Müller", "mueller").
        b: Another one, e.g. as stored ("Herr Brandt", "Müller GmbH").

    Returns:
        True when the cores of the names (:func:`match_key`) are equal and the kinds fit:
        the same kind, or one of them a bare name ("Brandt" is "Herr Brandt", but "Frau
        Keller" is not "Herr Keller" and "Frau Müller" not the "Müller GmbH").
    """
    core = match_key(a)
    if not core or core != match_key(b):
        return False
    kinds = {classify(_without_mention_words(a)).kind, classify(_without_mention_words(b)).kind}
    return len(kinds) == 1 or bool(kinds & _OPEN_KINDS)


def _without_mention_words(name: str | None) -> str:
    """``name`` without leading prepositions ("mit Herrn Brandt" -> "Herrn Brandt")."""
    tokens = re.sub(r"\s+", " ", name or "").strip().split(" ")
    prepositions = frozenset(_key(w) for w in lookup("clients", "prepositions"))
    while len(tokens) > 1 and _key(tokens[0]) in prepositions:
        tokens = tokens[1:]
    return " ".join(tokens)


def display_name(name: str) -> str:
    """The name as the coach stores and shows it ("mit Herrn Brandt" -> "Herr Brandt").

    Args:
        name: A client's name as typed.

    Returns:
        The name without leading prepositions, with its title normalised and a leading
        article dropped; the name unchanged (apart from spaces) when it has none of these.
    """
    return classify(_without_mention_words(name)).name or name.strip()
