"""A whole termination conversation judged per criterion, the way a trainer would.

Every user turn is rated as a whole (for calm: a long self-defence only shows in the whole
turn) and sentence by sentence (to find the one sentence that decided a criterion). Sentences
about the exercise itself ("ich möchte das Rollenspiel abbrechen") are left out. Then:

* ``clarity`` – the best unmistakable end statement counts; hedging before it costs a little,
  taking it back later (backing down, hedging the end again) costs most of it.
* ``reasons`` – the best reason counts (a question is no reason; a vague one stays vague).
* ``transition`` – every handover offer of the conversation together.
* ``appreciation`` – thanks and something positive from the whole conversation together;
  thanks for the call or the time is courtesy, not appreciation.
* ``respect`` and ``calm`` – the worst moment counts, every further one costs a little.

Weights: ``conversation`` in ``rules.yml``. Pure mechanics: no texts for the user here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from bot.rubric.engine import CRITERIA, rules

#: scorer(text, under_backlash) -> object or mapping with ``scores``/``flags`` (``signals``
#: optional): ``bot.rubric.assess`` or a stand-in
Scorer = Callable[[str, bool], Any]

#: a criterion at or above this needs no work (the feedback's strengths)
GOOD = 0.8
_CLEAR = "clear_end"
_TAKEN_BACK = ("backdown", "hedged_end")
_HEDGES = ("hedging", "hedged_end", "backdown")
_RESPECT_ISSUES = (
    "insult",
    "threat",
    "dismissive",
    "blame",
    "sarcasm",
    "command",
    "counter_attack",
    "condescension",
    "generalisation",
    "cool",
    "shouting",
)
#: what a decision, a reason or a handover looks like (a turn with one is not sidetracked)
_ON_TRACK = (
    "clear_end",
    "decisive",
    "reason",
    "reason_fact",
    "deescalation",
    "transition_docs",
    "transition_tasks",
    "transition_alternative",
    "transition_timeline",
)
_TRANSITION = (
    "transition_docs",
    "transition_tasks",
    "transition_alternative",
    "transition_timeline",
    "transition_support",
)
#: a handover with substance (support alone is a phrase)
_CONCRETE_TRANSITION = tuple(c for c in _TRANSITION if c != "transition_support")


@dataclass(frozen=True)
class Rated:
    """A rated piece of a user turn (a sentence or the whole turn)."""

    text: str
    scores: Mapping[str, float]
    flags: frozenset[str]
    signals: Mapping[str, tuple[str, ...]]
    #: the lexicon's hits: (criterion, issue, severity, calm penalty, words)
    lexicon: tuple[tuple[str, str, float, float, str], ...] = ()

    def has(self, *names: str) -> bool:
        """Whether any of the signals ``names`` was found.

        With the real rubric the signals decide (a dismissive phrase also flags ``insult`` for
        the client, but it is no insult); a stand-in scorer has only flags.
        """
        if self.signals:
            return any(self.signals.get(n) for n in names)
        return any(n in self.flags for n in names)

    def words(self, *names: str) -> tuple[str, ...]:
        """The matched words of the signals ``names`` (in this order, without repeats)."""
        out: list[str] = []
        for name in names:
            for word in self.signals.get(name, ()):
                if word not in out:
                    out.append(word)
        return tuple(out)


@dataclass(frozen=True)
class UserTurn:
    """One turn of the user: the whole turn rated and its sentences rated one by one."""

    n: int
    text: str
    under_backlash: bool
    whole: Rated
    sentences: tuple[Rated, ...]
    #: the client's line this turn answers ("" when unknown)
    client: str = ""


@dataclass(frozen=True)
class Judgement:
    """A criterion judged over the conversation.

    ``issue`` names what decided it (e.g. ``clear``, ``taken_back``, ``insult``, ``missing``);
    ``quote`` is the user's sentence that decided it (None when nothing was said for it);
    ``words`` are the words that went wrong (hedges, insults …); ``own`` is the criterion's
    own judgement by the rules when ``score`` also carries a share of the whole conversation
    (``conversation.whole_share`` in ``rules.yml``) or was calibrated to trainers' labels
    (``bot/rubric/calibration.py``).
    """

    criterion: str
    score: float
    issue: str
    quote: str | None = None
    turn: int | None = None
    words: tuple[str, ...] = ()
    own: float | None = None

    @property
    def own_score(self) -> float:
        """The criterion's own judgement by the rules (without share of the whole, uncalibrated)."""
        return self.score if self.own is None else self.own

    @property
    def good(self) -> bool:
        """Whether the criterion itself is met well (no need to work on it)."""
        return self.own_score >= GOOD


def as_rated(text: str, result: Any) -> Rated:
    """A rubric result (``Assessment``, a stand-in object or a mapping) as :class:`Rated`."""

    def get(name: str) -> Any:
        if isinstance(result, Mapping):
            return result.get(name)
        return getattr(result, name, None)

    scores = get("scores")
    if scores is None and isinstance(result, Mapping):
        scores = {c: result[c] for c in CRITERIA if c in result}
    return Rated(
        text=text,
        scores={str(k): float(v) for k, v in dict(scores or {}).items()},
        flags=frozenset(str(f) for f in (get("flags") or ())),
        signals={str(k): tuple(v) for k, v in dict(get("signals") or {}).items()},
        lexicon=tuple(
            (str(c), str(i), float(s), float(p), str(w)) for c, i, s, p, w in get("lexicon") or ()
        ),
    )


@lru_cache(maxsize=4096)
def _real_scorer(text: str, under_backlash: bool) -> Any:
    """The real rubric (cached: a feedback and its summary rate the same sentences)."""
    from bot.rubric import assess

    return assess(text, under_backlash=under_backlash)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as the rubric splits them ("zum 31. März" stays whole)."""
    from bot.rubric.engine import get_engine

    return get_engine().sentences(text)


def is_meta(text: str) -> bool:
    """Whether ``text`` talks about the exercise itself ("Rollenspiel abbrechen")."""
    from bot.rubric import assess

    return bool(assess(text).signals.get("meta"))


def user_turn(
    n: int, text: str, under_backlash: bool, scorer: Scorer | None = None, client: str = ""
) -> UserTurn | None:
    """Rate turn ``n`` whole and by sentence; None if it only talks about the exercise.

    ``scorer`` defaults to the real rubric; with another scorer, sentences are still split and
    meta sentences still dropped by the rubric. ``client`` is the client's line the turn
    answers (it shows when the user is pulled onto the client's side topic).
    """
    if scorer is None:  # one rating per sentence tells both the scores and "meta"
        rated = tuple(as_rated(s, _real_scorer(s, under_backlash)) for s in sentences(text))
        rated = tuple(r for r in rated if not r.signals.get("meta"))
        scorer = _real_scorer
    else:
        kept = [s for s in sentences(text) if not is_meta(s)]
        rated = tuple(as_rated(s, scorer(s, under_backlash)) for s in kept)
    if not rated:
        return None
    whole_text = " ".join(r.text for r in rated)
    if len(rated) == 1:
        return UserTurn(n, whole_text, under_backlash, rated[0], rated, client or "")
    whole = as_rated(whole_text, scorer(whole_text, under_backlash))
    return UserTurn(n, whole_text, under_backlash, whole, rated, client or "")


def unsplit_turn(n: int, text: str, under_backlash: bool, result: Any) -> UserTurn:
    """A turn known only as a whole (an earlier rating, e.g. from a stored role-play)."""
    rated = as_rated(text, result)
    return UserTurn(n, text, under_backlash, rated, (rated,))


def turns_from_texts(
    texts: Iterable[str], scorer: Scorer | None = None, clients: Sequence[str] | None = None
) -> list[UserTurn]:
    """The user's turns of a conversation, rated; every turn after the first is under backlash.

    ``clients``: the client's line before each turn (optional).
    """
    out = []
    for i, text in enumerate(texts):
        client = clients[i] if clients and i < len(clients) else ""
        turn = user_turn(i + 1, text, i > 0, scorer, client)
        if turn is not None:
            out.append(turn)
    return out


# --------------------------------------------------------------------------- judging


def _cfg(criterion: str) -> Mapping[str, Any]:
    return rules()["conversation"][criterion]


def _units(turns: Sequence[UserTurn]) -> list[tuple[UserTurn, Rated]]:
    return [(t, s) for t in turns for s in t.sentences]


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


def _hostile(unit: Rated) -> bool:
    """Whether a sentence is said in anger: an insult, contempt, a reproach or an outburst.

    The rules' hostile signals, or a lexicon hit of at least ``hostile_severity`` for respect
    (insult, contempt, sarcasm …) or an escalation for calm ("ich hab die Faxen dicke").
    """
    cfg = _cfg("hostility")
    if unit.has(*_HOSTILE):
        return True
    return any(
        (c == "respect" and sev >= float(cfg["respect_severity"]))
        or (c == "calm" and issue in cfg["calm_issues"])
        for c, issue, sev, _, _ in unit.lexicon
    )


def _clear_score(turn: UserTurn, sentence: Rated) -> float:
    """An end statement's clarity; the date or "das ist entschieden" may follow in its turn.

    An end thrown at the client in anger ("Mit Ihrem Saftladen bin ich durch") ends the
    relationship but leaves open how: it counts at most ``hostile_end_cap``.
    """
    whole = turn.whole.scores.get("clarity", 0.0) if turn.whole.has(_CLEAR) else 0.0
    score = max(sentence.scores.get("clarity", 0.0), whole)
    if _hostile(sentence) or (sentence.has("generalisation") and _addressed(sentence.text)):
        # "Sie wollen immer alles umsonst, und jetzt ist Schluss damit": an end in a reproach
        score = min(score, float(_cfg("clarity")["hostile_end_cap"]))
    return score


def _agrees_to_the_end(turn: UserTurn, sentence: Rated) -> bool:
    """Whether ``sentence`` only agrees to a client who has accepted the end.

    "So machen wir es." after "Wenn die Bilder sauber übergeben werden, ist das für mich
    erledigt" agrees to the handover; after "Dann bleibt alles beim Alten?" it backs down.
    """
    cfg = _cfg("clarity")
    phrases = tuple(str(p) for p in cfg.get("agreement_backdowns") or ())
    words = sentence.words("backdown")
    if not phrases or not words or sentence.has("hedging", "hedged_end", "deal_offer"):
        return False
    if not all(w.lower() in phrases for w in words):
        return False
    return bool(named(turn.client, cfg.get("client_accepts_end") or ()))


def _clarity(turns: Sequence[UserTurn]) -> Judgement:
    cfg = _cfg("clarity")
    units = _units(turns)
    # "sagen wir fünfzehn, aber dann ist wirklich Schluss": an end in a sentence that backs
    # down ends the haggling, not the relationship
    clear = [(i, t, s) for i, (t, s) in enumerate(units) if s.has(_CLEAR) and not s.has("backdown")]
    if clear:
        i, turn, best = max(clear, key=lambda c: (_clear_score(*c[1:]), -c[0]))
        first = clear[0][0]
        later = [
            (j, t, s)
            for j, (t, s) in enumerate(units)
            if j > first and s.has(*_TAKEN_BACK) and not _agrees_to_the_end(t, s)
        ]
        # the last word on the decision counts: an end said again after taking it back stands
        # (an end hedged in its own sentence restates nothing; one that backs down is not in
        # ``clear`` at all)
        restated = later and [
            c for c in clear if c[0] > later[-1][0] and not c[2].has("hedged_end")
        ]
        if restated:
            # said firmly again: the best end statement of the conversation counts, less the
            # wavering in between ("… zum 31. Dezember." … "vermutlich" … "Die Entscheidung
            # steht.")
            i, turn, best = max(clear, key=lambda c: (_clear_score(*c[1:]), -c[0]))
            score = _clear_score(turn, best) - float(cfg["hedged_before"])
            words = tuple(w for _, _, u in later for w in u.words("hedging", "backdown"))
            return Judgement("clarity", _clip(score), "clear_after_hedge", best.text, turn.n, words)
        if later:
            _, t, s = later[0]
            score = min(_clear_score(turn, best), float(cfg["taken_back_cap"]))
            words = s.words("hedging", "backdown")
            return Judgement("clarity", _clip(score), "taken_back", s.text, t.n, words)
        hedged = [(t, s) for t, s in units[:first] if s.has(*_HEDGES)]
        score = _clear_score(turn, best)
        first_turn = clear[0][1].n
        if first_turn >= int(cfg["late_turn"]) and any(
            _hostile(s) or s.has("rebuttal") for t, s in units if t.n <= first_turn
        ):
            # said only late, after a quarrel about old points: clear, but blurred
            score = min(score, float(cfg["late_in_quarrel_cap"]))
        if hedged:
            words = tuple(w for _, s in hedged for w in s.words("hedging", "backdown"))
            score -= float(cfg["hedged_before"])
            return Judgement("clarity", _clip(score), "clear_after_hedge", best.text, turn.n, words)
        distanced = [(t, s) for t, s in units if s.has("distancing")]
        if distanced and score > float(cfg["distanced_cap"]):
            t, s = distanced[0]
            score = float(cfg["distanced_cap"])
            return Judgement("clarity", score, "distanced", s.text, t.n, s.words("distancing"))
        # said only in a later answer (small talk, the client's agenda first): clear, but late
        late = min(int(cfg["late_turns_counted"]), first_turn - turns[0].n)
        if late > 0:
            score -= late * float(cfg["late_penalty"])
            if score < GOOD:
                return Judgement("clarity", _clip(score), "late", best.text, turn.n)
        return Judgement("clarity", _clip(score), "clear", best.text, turn.n)
    hedged = [(t, s) for t, s in units if s.has(*_HEDGES)]
    if hedged:
        t, s = hedged[0]
        words = tuple(w for _, u in hedged for w in u.words("hedging", "backdown"))
        # only a consideration: never below an end that was never mentioned at all
        best_hedged = max(u.scores.get("clarity", 0.0) for _, u in hedged)
        score = min(float(cfg["hedged_only"]), max(best_hedged, float(cfg["hedged_floor"])))
        return Judgement("clarity", _clip(score), "hedged", s.text, t.n, words)
    partial = [(t, s) for t, s in units if s.has("date", "notice_period", "decisive")]
    if partial:
        t, s = max(partial, key=lambda u: u[1].scores.get("clarity", 0.0))
        score = min(float(cfg["partial_cap"]), s.scores.get("clarity", 0.0))
        return Judgement("clarity", _clip(score), "partial", s.text, t.n)
    return Judgement("clarity", float(cfg["none"]), "missing")


_HOSTILE = ("insult", "dismissive", "blame", "sarcasm", "counter_attack")
#: a word as this module reads one (letters only)
_WORD = re.compile(r"[^\W\d_]+")


def _reason_score(turn: UserTurn, unit: Rated, topics: Sequence[str] = ()) -> float:
    """A sentence's reason in the conversation: a bare fact answers "why?", a reproach is weak.

    A reason with "immer"/"nie" or inside a long self-justification is hard to check. A
    sentence that names the scenario's real reason (``topics``) is a fact even in words the
    rules do not know ("Wir richten die Agentur auf Onlineshops größerer Händler aus").
    """
    cfg = _cfg("reasons")
    score = unit.scores.get("reasons", 0.0)
    on_topic = bool(topics) and bool(named(unit.text, topics))
    if on_topic and not unit.has("reason_fact"):
        scoring = rules()["scoring"]["reasons"]
        as_fact = (
            float(scoring["fact"])
            + (float(scoring["connector_with_fact"]) if unit.has("reason") else 0.0)
            + (float(scoring["specific_with_fact"]) if unit.has("reason_specific") else 0.0)
        )
        score = max(score, as_fact)
    if (
        on_topic
        and not _has_figure(unit)
        and any(_has_figure(u) and u.scores.get("reasons", 0.0) > 0 for u in turn.sentences)
    ):
        # the real reason in one sentence, its dates and figures in the next of the same turn
        score += float(rules()["scoring"]["reasons"]["specific_with_fact"])
    if unit.signals.get("reason_fact") and not unit.signals.get("reason"):
        score += float(cfg["fact_in_context"])
    # the real reason with its figures ("mehrfach angeschrien, zuletzt am Dienstag") stays
    # checkable in a heated turn; only its own sentence (or an exclamation) can spoil it
    checkable = on_topic and _has_figure(unit) and not unit.text.rstrip().endswith("!")
    if (
        _hostile(unit)
        or (_hostile(turn.whole) and not checkable)
        or (unit.has("generalisation") and _addressed(unit.text))
    ):
        # a reproach ("klappt bei Ihnen halt nie") is no reason the client can check
        score = min(score, float(cfg["hostile_cap"]))
    if (unit.has("generalisation") and not checkable) or turn.whole.has("justification"):
        # "bei fast jedem Auftrag …, zweimal mit Ihrem Anwalt": the real reason with a figure
        # stays checkable beside a sweeping word
        score = min(score, float(cfg["unverifiable_cap"]))
    if unit.has("backdown"):
        score = min(score, float(cfg["negotiating_cap"]))
    if not _has_figure(unit) and (
        unit.has("hedging", "concession", "vague_reason")
        or _minimised(unit.text)
        or (unit.has("rebuttal") and not unit.has("reason") and len(unit.text.split()) <= 12)
    ):
        # "auch wegen der Rechnung, aber eigentlich …", "Das stimmt, bezahlt wird immer",
        # "die Abzüge sind für uns schwierig", "ein Rabatt war nie vereinbart": hedged,
        # conceded, only rated or a rebuttal in the dispute – no checkable reason to end
        score = min(score, float(cfg["hedged_cap"]))
    return min(1.0, score)


_ARTICLES = frozenset({"ein", "eine", "einen", "einem", "einer", "eines"})


def _minimised(text: str) -> bool:
    """Whether a sentence talks its own reason down ("irgendwie", "öfter mal was später")."""
    from bot.rubric.lexicon import fold

    folded = " " + " ".join(fold(w) for w in _WORD.findall(text)) + " "
    phrases = _cfg("reasons").get("minimisers") or ()
    return any(f" {' '.join(fold(w) for w in str(p).split())} " in folded for p in phrases)


def _has_figure(unit: Rated) -> bool:
    """Whether a sentence names something checkable (a date, a number, "zum dritten Mal").

    The article "ein" (also a number word for the rules) is no figure.
    """
    if unit.has("date") or re.search(r"\d", unit.text):
        return True
    return any(w.lower() not in _ARTICLES for w in unit.words("reason_specific"))


def _addressed(text: str) -> bool:
    """Whether a sentence speaks to the client ("Sie", "Ihnen", "bei Ihnen" …)."""
    from bot.rubric.lexicon import get_lexicon

    return bool(_fold_words(text) & get_lexicon().second)


@lru_cache(maxsize=64)
def _stem_tests(stems: tuple[str, ...]) -> tuple[tuple[bool, bool, str], ...]:
    """Each stem as (anchored at the start, anchored at the end, folded core)."""
    from bot.rubric.lexicon import fold

    return tuple((s.startswith("^"), s.endswith("$"), fold(s.strip("^$"))) for s in stems)


def _stem_match(word: str, test: tuple[bool, bool, str]) -> bool:
    start, end, core = test
    if start and end:
        return word == core
    if start:
        return word.startswith(core)
    if end:
        return word.endswith(core)
    return core in word


def named(text: str, stems: Sequence[str]) -> tuple[str, ...]:
    """The words of ``text`` that one of the word ``stems`` names ("^" start, "$" end)."""
    from bot.rubric.lexicon import fold

    tests = _stem_tests(tuple(str(s) for s in stems))
    out: list[str] = []
    for word in _WORD.findall(text):
        folded = fold(word)
        if word not in out and any(_stem_match(folded, t) for t in tests):
            out.append(word)
    return tuple(out)


def _pretexts() -> tuple[str, ...]:
    """``conversation.reasons.pretexts`` of ``rules.yml`` (capacity, workload …)."""
    return tuple(str(p) for p in _cfg("reasons").get("pretexts") or ())


def _off_topic(
    units: Sequence[tuple[UserTurn, Rated]], topics: Sequence[str]
) -> tuple[list[tuple[UserTurn, Rated]], str | None]:
    """The reasons that name the scenario's real reason, or why none does.

    With ``topics`` (the scenario's ``reason_topics``) a reason that never names the real
    reason is beside the point (``off_topic``) – or a pretext (``pretext``: capacity,
    workload …) when it blames one of ``conversation.reasons.pretexts``.
    """
    if not topics:
        return list(units), None
    on = [(t, s) for t, s in units if named(s.text, topics)]
    if on:
        return on, None
    if any(named(s.text, _pretexts()) for _, s in units):
        return list(units), "pretext"
    return list(units), "off_topic"


_CONDITIONS = frozenset({"wenn", "falls", "sobald", "bitte", "solange", "entweder", "sonst"})
#: "jedes Mal, wenn …", "immer wenn …" report a pattern, they set no condition
_WHENEVER = re.compile(r"\b(jedes\s*mal|immer|sooft|so oft),?\s+wenn\b", re.IGNORECASE)
#: a demand at the start of the sentence ("Zahlen Sie die 6.800 Euro, dann …")
_DEMAND = re.compile(r"^\W*[A-ZÄÖÜ][a-zäöüß]+en\s+Sie\b(?![^.!?]*\?\s*$)")


def _not_a_reason(unit: Rated) -> bool:
    """Whether a sentence is a condition, a request or a handover that mentions the topic.

    "Die offenen Rechnungen überweisen Sie bitte bis Monatsende", "Die Druckdaten gibt's,
    wenn Geld da ist": no answer to "why?" unless it says "weil"/"Grund".
    """
    if unit.has("reason"):
        return False
    if _DEMAND.search(unit.text) or unit.has("transition_docs"):
        # a demand, or the handover of files ("Zum 31. August bekommen Sie den Quellcode, alle
        # Zugänge zum Zahlungsanbieter …") – "Zahlung" there is no reason
        return True
    return bool(_fold_words(_WHENEVER.sub(" ", unit.text)) & _CONDITIONS)


def _first_reason(
    units: Sequence[tuple[UserTurn, Rated]], topics: Sequence[str]
) -> tuple[UserTurn, Rated] | None:
    """The first reason of the conversation if it is a pretext (capacity …), else None."""
    if not topics or not units:
        return None
    t, s = units[0]
    if named(s.text, _pretexts()) and not named(s.text, topics):
        return t, s
    return None


def _reasons(turns: Sequence[UserTurn], topics: Sequence[str] = ()) -> Judgement:
    units = [
        (t, s)
        for t, s in _units(turns)
        if s.scores.get("reasons", 0.0) > 0 and not _not_a_reason(s)
    ]
    vague = [(t, s) for t, s in _units(turns) if s.has("vague_reason")]
    cfg = _cfg("reasons")
    if units:
        first = _first_reason(units, topics)
        units, beside = _off_topic(units, topics)
        t, s = max(units, key=lambda u: _reason_score(*u, topics))
        score = _reason_score(t, s, topics)
        issue = "concrete" if score >= 0.8 else "general"
        if score <= float(cfg["hostile_cap"]) and (
            _hostile(s) or (s.has("generalisation") and _addressed(s.text))
        ):
            # "Sie wollen doch immer nur alles umsonst": a reproach, not a reason
            words = s.words(*_HOSTILE, "generalisation")
            return Judgement("reasons", _clip(score), "reproach", s.text, t.n, words)
        # no real reason at all (beside the point, a pretext), or a pretext first ("wir sind
        # ausgelastet") and the real reason only later: capped, the pretext's words named
        cap, at = None, (t, s)
        if beside:
            cap = float(cfg[f"{beside}_cap"])
        elif first is not None:
            cap, beside, at = float(cfg["pretext_first_cap"]), "pretext_first", first
        if cap is not None and score > cap:
            t, s = at
            return Judgement("reasons", cap, beside, s.text, t.n, named(s.text, _pretexts()))
        if vague and score <= float(cfg["vague_cap"]):
            t, s = vague[0]
            issue = "vague"
        return Judgement("reasons", _clip(score), issue, s.text, t.n, s.words("vague_reason"))
    if vague:
        t, s = vague[0]
        score = float(cfg["vague_only"])
        return Judgement("reasons", score, "vague", s.text, t.n, s.words("vague_reason"))
    return Judgement("reasons", 0.0, "missing")


def _transition(turns: Sequence[UserTurn]) -> Judgement:
    scoring = rules()["scoring"]["transition"]
    units = [(t, s) for t, s in _units(turns) if s.scores.get("transition", 0.0) > 0]
    if not units:
        return Judgement("transition", 0.0, "missing")
    t, best = max(units, key=lambda u: u[1].scores.get("transition", 0.0))
    cats = {c for _, s in units for c in _TRANSITION if s.has(c)}
    strong = cats - set(scoring["weak_categories"])
    if not cats:  # a stand-in scorer without signals: the best sentence counts
        score = best.scores.get("transition", 0.0)
    elif not strong:
        score = float(scoring["weak_alone"])
    else:
        steps = scoring["by_categories"]
        score = float(steps[min(len(cats), len(steps) - 1)])
    score = max(score, best.scores.get("transition", 0.0))
    issue = "full" if score >= 0.8 else "partial" if strong or not cats else "vague"
    return Judgement("transition", _clip(score), issue, best.text, t.n)


def _appreciation(turns: Sequence[UserTurn]) -> Judgement:
    cfg = _cfg("appreciation")
    units = [(t, s) for t, s in _units(turns) if s.scores.get("appreciation", 0.0) > 0]
    if not units:
        return Judgement("appreciation", 0.0, "missing")
    objects = [str(o) for o in cfg.get("thanks_objects") or ()]

    def bare(s: Rated) -> bool:  # "Danke, aber nein." – thanks for nothing in particular
        return (
            bool(objects)
            and s.has("thanks")
            and not s.has("positive")
            and not named(s.text, objects)
        )

    thanks = [(t, s) for t, s in units if s.has("thanks") and not s.has("courtesy")]
    positive = [(t, s) for t, s in units if s.has("positive")]
    if not positive:  # a bare "Danke" only counts beside something positive
        thanks = [(t, s) for t, s in thanks if not bare(s)]
    courtesy = [(t, s) for t, s in units if s.has("courtesy") or bare(s)]
    t, best = max(units, key=lambda u: u[1].scores.get("appreciation", 0.0))
    if thanks and positive:
        return Judgement("appreciation", float(cfg["both"]), "full", best.text, t.n)
    if thanks or positive:
        score = float(cfg["thanks"] if thanks else cfg["positive"])
        return Judgement("appreciation", _clip(score), "partial", best.text, t.n)
    if courtesy:
        t, s = courtesy[0]
        return Judgement("appreciation", float(cfg["courtesy_thanks"]), "courtesy", s.text, t.n)
    # a stand-in scorer without signals: the best sentence counts
    score = best.scores.get("appreciation", 0.0)
    issue = "full" if score >= 0.8 else "partial"
    return Judgement("appreciation", _clip(score), issue, best.text, t.n)


def _respect(turns: Sequence[UserTurn]) -> Judgement:
    cfg = _cfg("respect")
    base = float(rules()["scoring"]["respect"]["base"])
    units = _units(turns)
    if not units:
        return Judgement("respect", 0.0, "missing")
    polite = any(s.has("polite", "deescalation") for _, s in units)
    bonus = float(cfg["polite_bonus"]) if polite else 0.0
    worst_t, worst = min(units, key=lambda u: u[1].scores.get("respect", base))
    low = worst.scores.get("respect", base)
    bad = [u for u in units if u[1].scores.get("respect", base) < float(cfg["bad_below"])]
    if low >= base or (low >= float(cfg["bad_below"]) and not worst.has(*_RESPECT_ISSUES)):
        return Judgement("respect", _clip(max(low, base) + bonus), "ok")
    issue = next((i for i in _RESPECT_ISSUES if worst.has(i)), "tone")
    graded = [h for h in worst.lexicon if h[0] == "respect"]
    if graded:  # the lexicon's worst hit decided the score: name it
        top = max(graded, key=lambda h: h[2])
        if 1.0 - top[2] <= low + 1e-9 and top[1] in _RESPECT_ISSUES:
            issue = top[1]
    if issue == "generalisation":  # the worst is a sweeping word, nothing worse anywhere
        low = max(low, float(cfg["generalisation_floor"]))
    score = low - float(cfg["repeat_penalty"]) * max(0, len(bad) - 1)
    score += _repair(turns, worst_t.n)
    words = worst.words(issue) or worst.words(*_RESPECT_ISSUES)
    return Judgement("respect", _clip(score), issue, worst.text, worst_t.n, words)


def _repair(turns: Sequence[UserTurn], after: int) -> float:
    """What an apology in or after turn ``after`` wins back ("Entschuldigung, das war …")."""
    from bot.rubric.lexicon import get_lexicon

    if any(s.has("repair") for t in turns if t.n >= after for s in t.sentences):
        return float((get_lexicon().calm_data.get("context") or {}).get("repair", 0.0))
    return 0.0


def _fold_words(text: str) -> set[str]:
    from bot.rubric.lexicon import fold

    return {fold(w) for w in _WORD.findall(text)}


_NOUN = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]{4,}\b")
_SENTENCE_START = re.compile(r"(^|[.!?:;–„“\"(])\s*$")


def _nouns(text: str) -> set[str]:
    """Capitalised words that are nouns by their capital.

    Not at a sentence start ("Hallo! …"), not a name after "Frau"/"Herr", no "Ihnen".
    """
    from bot.rubric.lexicon import get_lexicon

    pronouns = get_lexicon().second | get_lexicon().first
    out = set()
    for m in _NOUN.finditer(text):
        before = text[: m.start()]
        if _SENTENCE_START.search(before) or re.search(r"\b(Frau|Herrn?)\s+$", before):
            continue
        out |= _fold_words(m.group()) - pronouns
    return out


def _context_issues(turn: UserTurn) -> dict[str, float]:
    """Calm issues that only show against the client's line.

    * an echo question ("Plötzlich?" after "… sehr plötzlich"): a retort, not an answer;
    * a turn that takes up the client's side topic (a noun of the client's line) with no
      decision, reason, handover or acknowledgement in it, and no "nicht"/"kein": the user
      has been pulled off track.
    """
    from bot.rubric.lexicon import get_lexicon

    if not turn.client:
        return {}
    lex = get_lexicon()
    cfg = lex.calm_data.get("context") or {}
    client_words = _fold_words(turn.client)
    out: dict[str, float] = {}
    for s in turn.sentences:
        words = _WORD.findall(s.text)
        if s.text.rstrip().endswith("?") and 0 < len(words) <= 2:
            if _fold_words(s.text) <= client_words:
                out["rhetorical"] = float(cfg.get("echo_question", 0.0))
    said = _fold_words(turn.text)
    if (
        not turn.whole.has(*_ON_TRACK)
        and not said & lex.negators
        and _nouns(turn.client) & _nouns(turn.text)
    ):
        out["sidetracked"] = float(cfg.get("topic_pull", 0.0))
    return {k: v for k, v in out.items() if v > 0}


def _calm_penalty(
    turn: UserTurn, penalties: Mapping[str, float], point_made: bool = False
) -> tuple[float, str | None]:
    """What a turn costs calm: the fixed penalties of rules.yml plus the lexicon's own.

    A lexicon issue that rules.yml already prices (insult, counter_attack …) counts once;
    giving in and being sidetracked are one failure (the larger counts); once the end was
    said (``point_made``), taking up the client's topic is no longer being sidetracked.
    """
    found = [(float(p), name) for name, p in penalties.items() if turn.whole.has(name)]
    backing = [s for s in turn.sentences if s.has("backdown")]
    if turn.whole.has(_CLEAR, "decisive") or (  # "Sie haben recht, … Die Entscheidung bleibt."
        backing and all(_agrees_to_the_end(turn, s) for s in backing)  # "So machen wir es."
    ):
        found = [f for f in found if f[1] != "backdown"]
    if not turn.whole.has("defensive") and (
        turn.whole.has(_CLEAR, "decisive") or turn.whole.has(*_CONCRETE_TRANSITION)
    ):
        # "Ich verstehe das, aber es bleibt dabei. Bis März bekommen Sie …": the "aber" and
        # the many "wir" of a long turn that holds the decision or plans the handover are no
        # self-defence
        found = [f for f in found if f[1] != "justification"]
    extra: dict[str, float] = {}
    for _, issue, _, calm, _ in turn.whole.lexicon:
        if issue not in penalties and calm > 0:
            extra[issue] = max(extra.get(issue, 0.0), calm)
    for issue, calm in _context_issues(turn).items():
        if issue not in penalties and not turn.whole.has(issue):
            extra[issue] = max(extra.get(issue, 0.0), calm)
    if turn.whole.has("backdown"):  # backing down is priced by rules.yml already
        extra.pop("gives_in", None)
        extra.pop("sidetracked", None)
    if point_made:  # after the end was said, "Was brauchen Sie …?" is the handover
        extra.pop("sidetracked", None)
    if "gives_in" in extra and "sidetracked" in extra:
        drop = min(("gives_in", "sidetracked"), key=lambda k: extra[k])
        del extra[drop]
    found += [(p, name) for name, p in extra.items()]
    if not found:
        return 0.0, None
    # the worst thing in the turn counts; every further kind of slip adds a little
    worst = max(found)
    more = float(_cfg("calm")["repeat_penalty"]) * (len(found) - 1)
    return worst[0] + more, worst[1]


def _calm(turns: Sequence[UserTurn]) -> Judgement:
    """Every turn counts: an insult in the opening is no calmer than one under backlash.

    A calm, factual conversation without a slip is calm (``base``, trainers label it so);
    taking the client's anger seriously rounds it off. Any slip first drops it by
    ``slip_drop`` and then costs its own penalty.
    """
    cfg = _cfg("calm")
    if not turns:
        return Judgement("calm", 0.0, "missing")
    acknowledged = any(s.has("deescalation") for t in turns for s in t.sentences)
    score = float(cfg["base"]) + (float(cfg["acknowledged"]) if acknowledged else 0.0)
    rated = [
        (t, *_calm_penalty(t, cfg["penalties"], any(u.whole.has(_CLEAR) for u in turns[:i])))
        for i, t in enumerate(turns)
    ]
    bad = [r for r in rated if r[1] > 0]
    pattern = _calm_pattern(turns, cfg)
    if pattern is not None and all(r[1] < pattern[1] for r in bad):
        turn, penalty, issue, quote = pattern
        count = len(bad) + (0 if any(r[0] is turn for r in bad) else 1)
        score -= float(cfg["slip_drop"]) + penalty + float(cfg["repeat_penalty"]) * (count - 1)
        return Judgement("calm", _clip(score), issue, quote.text, turn.n, _apology_words(quote))
    if not bad:
        return Judgement("calm", _clip(score), "calm" if acknowledged else "no_acknowledgement")
    turn, penalty, issue = max(bad, key=lambda r: r[1])
    score -= float(cfg["slip_drop"]) + penalty + float(cfg["repeat_penalty"]) * (len(bad) - 1)
    score += _repair(turns, turn.n)
    quote = min(turn.sentences, key=lambda s: (not s.has(issue), s.scores.get("calm", 1.0)))
    words = quote.words(issue) or turn.whole.words(issue)
    return Judgement("calm", _clip(score), str(issue), quote.text, turn.n, words)


def _apology_words(unit: Rated) -> tuple[str, ...]:
    from bot.rubric.lexicon import fold

    words = {fold(str(w)) for w in _cfg("calm").get("apologies") or ()}
    return tuple(w for w in _WORD.findall(unit.text) if fold(w) in words)


def _calm_pattern(
    turns: Sequence[UserTurn], cfg: Mapping[str, Any]
) -> tuple[UserTurn, float, str, Rated] | None:
    """A loss of calm that only shows over the conversation, at the sentence that made it one.

    * ``over_apology`` – apologising again and again ("Es tut mir so leid …", "… wahnsinnig
      leid"): the decision sounds like a wrong the user is sorry for;
    * ``relitigating`` – rebutting old claims point by point ("Die App war nie im Vertrag",
      "… hat nie jemand zugesagt"): the dispute is reopened instead of closed.
    """
    units = _units(turns)
    apologies = [(t, s) for t, s in units if _apology_words(s)]
    if len(apologies) >= int(cfg["apologies_min"]):
        t, s = apologies[int(cfg["apologies_min"]) - 1]
        return t, float(cfg["penalties"]["over_apology"]), "over_apology", s
    rebuttals = [(t, s) for t, s in units if s.has("rebuttal")]
    if len(rebuttals) >= int(cfg["rebuttals_min"]):
        t, s = rebuttals[int(cfg["rebuttals_min"]) - 1]
        return t, float(cfg["penalties"]["relitigating"]), "relitigating", s
    return None


_JUDGES: dict[str, Callable[[Sequence[UserTurn]], Judgement]] = {
    "clarity": _clarity,
    "reasons": _reasons,
    "respect": _respect,
    "transition": _transition,
    "appreciation": _appreciation,
    "calm": _calm,
}


def judge(
    turns: Sequence[UserTurn], topics: Sequence[str] = (), calibrated: bool = False
) -> dict[str, Judgement]:
    """Every criterion of the conversation (CONTRACT.md keys, in their order).

    ``topics``: the scenario's ``reason_topics`` (word stems of the real reason to end);
    ``calibrated``: move the scores by the model fitted to trainers' labels
    (``bot/rubric/calibration.py``) – only for turns rated by the real rubric, whose signals
    the model reads.
    """
    own = {c: _reasons(turns, topics) if c == "reasons" else _JUDGES[c](turns) for c in CRITERIA}
    judged = with_whole_share(own)
    if not calibrated:
        return judged
    from bot.rubric.calibration import calibrate

    return calibrate(turns, judged)


def _bounded(value: float, most: float) -> float:
    return max(-most, min(most, value))


def with_whole_share(own: Mapping[str, Judgement]) -> dict[str, Judgement]:
    """Give each criterion its share of the conversation as a whole (``whole_share``).

    A trainer's mark for calm is coloured by the whole conversation: "ruhig geblieben" means
    more when the user also stayed with the decision, explained and handed over. So the score
    of a criterion with a share ``w`` (only calm, see ``rules.yml``) is
    ``own + w * (mean of all criteria's own scores - own)``, moved by at most
    ``whole_share_max``; the quote, the issue and whether the criterion needs work (``good``)
    stay its own. Criteria without a share are unchanged.
    """
    cfg = rules()["conversation"]
    shares = cfg.get("whole_share", {})
    most = float(cfg.get("whole_share_max", 0.1))
    if not own:
        return dict(own)
    mean = sum(j.score for j in own.values()) / len(own)
    out: dict[str, Judgement] = {}
    for c, j in own.items():
        w = float(shares.get(c, 0.0))
        out[c] = (
            j
            if not w
            else replace(
                j,
                score=round(_clip(j.score + _bounded(w * (mean - j.score), most)), 4),
                own=j.score,
            )
        )
    return out


def judge_texts(
    texts: Iterable[str],
    scorer: Scorer | None = None,
    clients: Sequence[str] | None = None,
    topics: Sequence[str] = (),
) -> dict[str, Judgement]:
    """Judge the user's turns of a conversation given as plain texts (real rubric by default).

    ``clients``: the client's line before each turn, when known; ``topics``: the scenario's
    ``reason_topics``. With the real rubric the scores are calibrated (``judge``).
    """
    return judge(turns_from_texts(texts, scorer, clients), topics, calibrated=scorer is None)
