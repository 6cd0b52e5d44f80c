"""Row 15 of docs/roleplay.md: calm's share of the whole conversation, and new wordings.

Mock praise, veiled threats and trading the end for a concession are named.

Each rule is shown with the harmless sibling it leaves alone.
"""

from __future__ import annotations

import pytest

from bot.rubric import assess
from bot.rubric.conversation import Judgement, judge_texts, with_whole_share
from bot.rubric.engine import CRITERIA, rules

END = "Wir beenden die Zusammenarbeit zum 31. März."


def _own(**scores: float) -> dict[str, Judgement]:
    return {c: Judgement(c, scores.get(c, 1.0), "x") for c in CRITERIA}


def test_calm_moves_towards_the_whole_conversation_by_at_most_the_configured_step():
    conf = rules()["conversation"]
    assert conf["whole_share"] == {"calm": 0.2} and conf["whole_share_max"] == 0.1
    poor = with_whole_share(
        _own(clarity=0.1, reasons=0.0, respect=0.9, transition=0.0, appreciation=0.0, calm=0.9)
    )
    # mean 0.3167: 0.9 + 0.2 * (0.3167 - 0.9) = 0.783, bounded to 0.9 - 0.1
    assert poor["calm"].score == pytest.approx(0.8) and poor["calm"].own == 0.9
    assert poor["calm"].good  # whether calm needs work stays calm's own judgement
    good = with_whole_share(_own(calm=0.7))
    assert good["calm"].score == pytest.approx(0.7 + 0.2 * (5.7 / 6 - 0.7))
    for c in CRITERIA:  # every other criterion is its own judgement, untouched
        if c != "calm":
            assert poor[c].score == poor[c].own_score and poor[c].own is None


def test_a_perfect_conversation_keeps_its_scores():
    perfect = with_whole_share(_own())
    assert all(j.score == 1.0 for j in perfect.values())


def test_the_feedback_decides_good_and_weak_on_the_own_score():
    from bot.roleplay import evaluation

    own = {c: Judgement(c, 0.0, "missing", f"Satz {c}.", 1) for c in CRITERIA}
    own["calm"] = Judgement("calm", 0.85, "no_acknowledgement", "Ruhiger Satz.", 1)
    judged = with_whole_share(own)
    assert judged["calm"].score < 0.8 <= judged["calm"].own_score
    weak = [w["criterion"] for w in evaluation._weakest(judged, None)]
    assert "calm" not in weak and len(weak) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Drohen können Sie ja gut, das muss man Ihnen lassen.",
        "Ach, der Anwalt schon wieder. Grüßen Sie ihn schön.",
        "Dann zeigen Sie mir doch mal dieses „irgendwo“.",
        "Aber Kleinkram ist das natürlich alles, klar.",
        "Suchen Sie sich jemand anderen, der sich das gefallen lässt.",
        "Dann kann Ihr Anwalt Ihnen ja auch gleich das WLAN reparieren.",
        "Solange die Pauschale fehlt, bleiben die Zugangsdaten bei uns. Sie verstehen schon.",
        "Bei Ihrer Zahlungsmoral wundert es mich nicht, dass Sie ständig neue Grafiker brauchen.",
        "Wer so mit Leuten umspringt, braucht sich nicht zu wundern.",
        "Das ist kein raues Wort, das ist einfach asozial.",
    ],
)
def test_mock_praise_veiled_threats_and_verdicts_cost_respect_and_calm(text):
    judged = judge_texts([END, text])
    assert judged["respect"].own_score <= 0.4, text
    assert judged["calm"].own_score <= 0.4, text


@pytest.mark.parametrize(
    "text",
    [
        "Das können Sie gut nachlesen, es steht in Paragraf 3.",
        "Grüßen Sie Ihr Team, die Zusammenarbeit mit ihnen war angenehm.",
        "Es wundert mich nicht, dass Sie überrascht sind.",
        "Zeigen Sie mir bitte die Stelle im Vertrag, dann schaue ich sie mir an.",
        "Ich verstehe schon, dass Sie enttäuscht sind.",
    ],
)
def test_their_harmless_siblings_stay_respectful(text):
    judged = judge_texts([END, text])
    assert judged["respect"].own_score >= 0.9, text


@pytest.mark.parametrize(
    "text",
    [
        "Fünfzehn ist viel … Sagen wir zwölf, und dann verlängern wir.",
        "Na gut, dann verlängern wir eben noch ein Jahr.",
        "Machen Sie sich keinen Kopf, das klären wir alles noch, ich melde mich.",
    ],
)
def test_trading_the_end_for_a_concession_takes_it_back(text):
    assert assess(text).signals.get("backdown"), text
    judged = judge_texts([END, text])
    assert judged["clarity"].issue == "taken_back" and judged["clarity"].own_score <= 0.3, text
    assert judged["calm"].own_score <= 0.4, text


@pytest.mark.parametrize(
    "text",
    [
        "Wir verlängern den Vertrag nicht.",
        "Sagen wir es so: Bis zum 15. März bekommen Sie alle Dateien.",
        "Die Übergabe klären wir bis Freitag.",
    ],
)
def test_a_refusal_or_a_handover_date_is_no_trade(text):
    judged = judge_texts([END, text])
    assert judged["clarity"].issue != "taken_back", text


# ---------------------------------------------------------------- row 16 (blind16/blind17 read)


@pytest.mark.parametrize(
    "turns",
    [
        [
            "Unsere Geschäftsführung hat entschieden, die Zusammenarbeit zum Quartalsende zu "
            "beenden. Ich persönlich hätte das anders gelöst, aber da habe ich nichts mitzureden."
        ],
        [
            "die geschaeftsfuehrung hat entschieden, den vertrag mit ihnen zu kuendigen",
            "das kam von oben, ich kann da leider nix machen.",
        ],
        [END, "Die Entscheidung liegt nicht bei mir, mir sind die Hände gebunden."],
    ],
)
def test_an_end_delivered_as_someone_elses_decision_is_not_stood_by(turns):
    clarity = judge_texts(turns)["clarity"]
    assert clarity.issue == "distanced" and clarity.own_score == 0.5, turns
    assert clarity.words and all(w.lower() in " ".join(turns).lower() for w in clarity.words[:1])


@pytest.mark.parametrize(
    "text",
    [
        "Die Geschäftsführung und ich haben entschieden: Wir beenden die Zusammenarbeit.",
        "Wir haben das gemeinsam entschieden, und ich stehe dahinter.",
    ],
)
def test_a_decision_the_user_shares_is_no_distancing(text):
    assert judge_texts([text, END])["clarity"].issue != "distanced", text


@pytest.mark.parametrize(
    ("text", "clear"),
    [
        ("Mit Leuten wie Ihnen arbeiten wir nicht mehr.", True),
        ("Ab April arbeiten wir nicht mehr für Sie.", True),
        ("Daran arbeiten wir nicht mehr.", False),
        ("Für den Preis arbeiten wir nicht mehr.", False),
        ("Umsonst arbeiten wir nicht mehr.", False),
    ],
)
def test_we_no_longer_work_for_you_ends_but_not_for_free_or_on_that(text, clear):
    assert (judge_texts([text])["clarity"].issue == "clear") is clear, text


def test_only_considering_the_end_is_never_worse_than_never_saying_it():
    hedged = judge_texts(["keine ahnung, vielleicht, muss ich mit meinem chef klaeren."])
    never = judge_texts(["Guten Tag, Herr Lindner."])
    assert hedged["clarity"].issue == "hedged" and never["clarity"].issue == "missing"
    assert hedged["clarity"].own_score > never["clarity"].own_score


def test_calling_actually_for_another_reason_is_no_hedge():
    text = "ich ruf aber eigentlich an weil wir den vertrag zum 28.02. nicht verlaengern."
    assert judge_texts([text])["clarity"].issue == "clear"


@pytest.mark.parametrize(
    "text",
    [
        "Zwölf Änderungen, natürlich, und alles gratis wie immer.",
        "Ohne Vorkasse, natürlich, damit wir wieder drei Monate dem Geld hinterherlaufen dürfen.",
        "Ach ja, die berühmten kleinen Fehler, die immer dann auftauchen, wenn die Rechnung kommt.",
        "Sie erzählen seit zwei Jahren Märchen.",
        "Vielleicht jemand, der Ihnen alles glaubt.",
        "Wirtschaftlich sind kleine Kunden für uns eher eine Last.",
        "Das ist nun mal Business, da müssen Sie jetzt durch.",
        "Sie sind einfach zu klein für uns.",
    ],
)
def test_ironic_asides_and_belittling_cost_respect(text):
    assert judge_texts([END, text])["respect"].own_score <= 0.5, text


@pytest.mark.parametrize(
    "text",
    [
        "Die Dateien bekommen Sie wie immer kostenlos dazu.",
        "Damit wir wieder arbeiten dürfen, brauchen wir die Freigabe.",
        "Niemand sagt, dass Sie schuld sind.",
        "Ihre Handbücher waren fachlich immer anspruchsvoll, wir haben viel gelernt.",
    ],
)
def test_their_plain_siblings_stay_respectful(text):
    assert judge_texts([END, text])["respect"].own_score >= 0.9, text


def test_a_real_reason_with_a_figure_stays_checkable_beside_a_sweeping_word():
    from bot.roleplay.scenarios import default_scenarios

    topics = default_scenarios()["threatens_reviews"].reason_topics
    text = "Bei fast jedem Auftrag kommt eine Drohung mit einem Stern, zweimal mit Ihrem Anwalt."
    assert judge_texts([END, text], topics=topics)["reasons"].own_score > 0.6


# ---------------------------------------------------------------- row 17 (blind18/blind19 read)


@pytest.mark.parametrize(
    "text", ["Sie haben recht, das war unnötig scharf.", "Das war zu scharf, das nehme ich zurück."]
)
def test_taking_back_a_remark_is_not_taking_back_the_end(text):
    judged = judge_texts([END, text, "An der Entscheidung ändert das nichts."])
    assert judged["clarity"].issue == "clear", text
    assert judge_texts([END, "Ich nehme das zurück, wir machen weiter."])["clarity"].issue == (
        "taken_back"
    )


def test_an_event_named_again_with_its_date_keeps_the_end_in_one_clause():
    text = (
        "Ich rufe an, um Ihnen zu sagen, dass wir die Zusammenarbeit nach dem letzten gebuchten "
        "Termin, dem Shooting in der Villa am 12. Dezember, beenden."
    )
    clarity = judge_texts([text])["clarity"]
    assert clarity.issue == "clear" and clarity.quote == text


@pytest.mark.parametrize(
    "text",
    [
        "Wenn der Schuh passt.",
        "Sie legen sich da Ihre eigene Wahrheit zurecht.",
        "Sie haben drei Jahre lang genommen, was Sie kriegen konnten.",
        "Ich weiß echt nicht, wie oft ich das noch erklären soll.",
        "Dann zahlen Sie halt einfach mal.",
        "Es ist einfach so, wie es ist.",
    ],
)
def test_jibes_insinuations_and_brush_offs_cost_respect(text):
    assert judge_texts([END, text])["respect"].own_score <= 0.65, text


@pytest.mark.parametrize(
    "text",
    [
        "Nein, ein Witz ist es nicht, und ich verstehe, dass Sie das jetzt überrascht.",
        "Sie waren immer so lieb zu uns, danke für alles.",
        "Ich weiß, wo der Schuh drückt, deshalb bieten wir Ihnen eine Übergabe an.",
        "Bitte zahlen Sie die Rechnung bis Freitag.",
    ],
)
def test_their_kind_siblings_stay_respectful(text):
    assert judge_texts([END, text])["respect"].own_score >= 0.9, text


# ---------------------------------------------------------------- row 18 (blind20/blind21 read)


@pytest.mark.parametrize(
    "text",
    [
        "danke fuer sechs schoene jahre – die lesungsreihe war fuer uns immer ein highlight.",
        "Und danke für die zwei Jahre – Ihr Shop läuft umsatzmäßig so gut wie nie.",
        "Das hat nichts mit Ihnen zu tun, Sie waren immer eine der Nettesten.",
    ],
)
def test_always_and_never_in_praise_are_no_sweeping_reproach(text):
    assert judge_texts([END, text])["respect"].own_score >= 0.9, text


def test_an_end_thrown_into_a_reproach_is_clear_only_in_anger():
    clarity = judge_texts(["Sie wollen immer alles umsonst, und jetzt ist Schluss damit."])
    assert clarity["clarity"].own_score <= 0.5


def test_haggling_that_ends_with_schluss_restates_no_end():
    turns = [
        "Ehrlich gesagt überlegen wir, ob wir den Rahmenvertrag überhaupt verlängern.",
        "Für das Handbuch könnte ich Ihnen zehn Prozent anbieten.",
        "Okay, sagen wir fünfzehn, aber dann ist wirklich Schluss.",
    ]
    assert judge_texts(turns)["clarity"].own_score <= 0.3


def test_a_conditional_talk_later_takes_the_end_back():
    turns = [
        "Nach dem Flyer nehmen wir keine neuen Aufträge mehr von Ihnen an.",
        "Also gut, wenn die 6.800 Euro bis Ende des Monats da sind, können wir im Herbst schon "
        "noch einmal darüber reden.",
    ]
    assert judge_texts(turns)["clarity"].issue == "taken_back"


@pytest.mark.parametrize(
    ("text", "cool"),
    [
        ("nein, ist halt so. lohnt sich nicht mehr", True),
        ("Da gibts auch nix zu diskutieren.", True),
        ("Es ist halt so … die Zahlungen kommen manchmal später.", False),
    ],
)
def test_a_cool_brush_off_but_not_a_hesitant_start(text, cool):
    assert (judge_texts([END, text])["respect"].issue == "cool") is cool, text


def test_i_myself_would_have_done_it_differently_is_distancing():
    turns = [
        "Unsere Geschäftsleitung hat entschieden, den Rahmenvertrag im März nicht zu verlängern.",
        "Ich selbst hätte es vielleicht anders gemacht, aber ich muss das so weitergeben.",
    ]
    assert judge_texts(turns)["clarity"].issue == "distanced"


# ---------------------------------------------------------------- row 19 (blind22/blind23 read)


def test_a_date_with_its_full_stop_ends_the_sentence():
    from bot.rubric.engine import get_engine

    text = "Ihr Vertrag endet zum 31.12. Wir machen keine kleinen Kunden mehr."
    assert get_engine().sentences(text) == [
        "Ihr Vertrag endet zum 31.12.",
        "Wir machen keine kleinen Kunden mehr.",
    ]
    assert judge_texts([text])["clarity"].issue == "clear"
    assert get_engine().sentences("Bis zum 31.12. geht alles normal weiter.") == [
        "Bis zum 31.12. geht alles normal weiter."
    ]


@pytest.mark.parametrize(
    ("text", "clear"),
    [
        (
            "Wir verlängern den Rahmenvertrag mit Berger zum Ende der Laufzeit am 30. April nicht.",
            True,
        ),
        ("Wir machen ab nächstem Jahr keine Pflege mehr für Sie.", True),
        ("Wir haben keine Zeit mehr für Sie heute.", False),
    ],
)
def test_not_renewing_and_no_more_work_for_you_are_ends(text, clear):
    assert (judge_texts([text])["clarity"].issue == "clear") is clear, text


@pytest.mark.parametrize(
    "text",
    [
        "Dann frage ich mich, wer hier Geschichten erzählt.",
        "Sie sind echt unglaublich.",
        "Sie haben den Tippfehler als Vorwand genommen.",
        "Da haben wir wohl verschiedene Kalender.",
    ],
)
def test_insinuations_and_exasperation_cost_respect(text):
    assert judge_texts([END, text])["respect"].own_score <= 0.65, text


@pytest.mark.parametrize(
    "text",
    [
        "Ich wünsche Ihnen alles Gute, Frau Haas.",
        "Sie waren nie eine Nummer – die Seite ist eines meiner Lieblingsprojekte.",
        "Mir geht es darum, dass sie immer wieder als Druckmittel eingesetzt wurde.",
        "Das ist unglaublich schön, dass Sie anrufen.",
    ],
)
def test_good_wishes_and_praise_stay_respectful(text):
    assert judge_texts([END, text])["respect"].own_score >= 0.9, text


# ---------------------------------------------------------------- row 20 (blind24/blind25 read)


def test_for_you_i_do_nothing_more_is_an_end():
    assert judge_texts(["Für Sie mache ich nichts mehr."])["clarity"].issue == "clear"


def test_that_was_too_quick_of_me_takes_the_end_back():
    turns = [END, "Hm. Vielleicht war das jetzt auch etwas schnell von mir."]
    assert judge_texts(turns)["clarity"].issue == "taken_back"
    assert judge_texts([END, "Das ging schnell, danke."])["clarity"].issue == "clear"


def test_taking_back_an_unfair_remark_keeps_the_end():
    turns = [END, "Das war nicht fair von mir, das nehme ich zurück."]
    assert judge_texts(turns)["clarity"].issue == "clear"


@pytest.mark.parametrize(
    ("text", "respectful"),
    [
        ("Sie waren immer so eine liebe Kundin, danke für alles.", True),
        ("Wir haben jedes Mal den Vertrag geprüft und Ihnen das Ergebnis geschickt.", True),
        ("Sie zahlen jedes Mal zu spät.", False),
    ],
)
def test_every_time_about_us_or_in_praise_is_no_reproach(text, respectful):
    assert (judge_texts([END, text])["respect"].own_score >= 0.9) is respectful, text


# ---------------------------------------------------------------- row 21 (blind26/blind27 read)


@pytest.mark.parametrize(
    ("text", "respectful"),
    [
        ("Niemand nennt Sie einen Lügner.", True),
        ("Ihre Messestände waren immer die kreativsten Aufträge, die wir hatten.", True),
        ("Vielleicht sollten Sie dann mal Ihre eigenen Kunden mahnen.", False),
        ("Die Druckdaten gibt es, wenn das Geld da ist. So einfach ist das.", False),
    ],
)
def test_denials_superlative_praise_and_patronising_advice(text, respectful):
    assert (judge_texts([END, text])["respect"].own_score >= 0.9) is respectful, text
