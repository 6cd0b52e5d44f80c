"""Clarity, reasons and calm on German as people write it (issue 11, last gap).

Written from general German, not from the labelled transcripts: idiomatic end statements,
the last word on the decision, business reasons in the user's own words, reproaches that are
no reasons, the calm scale (a calm factual conversation is calm) and "Ehrlich gesagt …".
"""

from __future__ import annotations

import pytest

from bot.rubric import assess
from bot.rubric.conversation import judge_texts

END = "Wir beenden die Zusammenarbeit zum 31. März."


@pytest.mark.parametrize(
    "text",
    [
        "Wir ziehen zum Jahresende den Stecker.",
        "Mit Ihnen ist ab Januar Feierabend.",
        "Wir machen da jetzt den Deckel drauf.",
        "Hier trennen sich unsere Wege.",
        "Ab März stehen wir Ihnen nicht mehr zur Verfügung.",
        "Neue Aufträge nehme ich danach nicht mehr an.",
        "Wir lassen den Vertrag zum Jahresende auslaufen.",
        "Ich habe den Vertrag gestern gekündigt.",
        "Der Messestand wird unser letzter gemeinsamer Job.",
        "Ab Januar geht es ohne uns weiter.",
        "Nach dem Projekt fotografieren wir nicht mehr für Ihre Firma.",
        "Nach dem Messestand nehme ich keine Aufträge mehr von Ihnen an.",
        "Wir betreuen Ihre Website ab Januar nicht mehr.",
        "Ab März beliefern wir Sie nicht mehr.",
    ],
)
def test_idiomatic_end_statements_are_clear(text):
    assert "clear_end" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Ich wünsche Ihnen einen schönen Feierabend.",
        "Sie haben nur noch zwei Tage Zeit.",
        "Betreuen wir Sie dann nicht mehr?",
        "Wir betreuen Sie nicht mehr umsonst.",
    ],
)
def test_everyday_sentences_are_no_end_statement(text):
    assert not assess(text).signals.get("clear_end"), text


@pytest.mark.parametrize(
    "text",
    [
        "Na gut, dann machen wir doch weiter.",
        "Wir können es ja nochmal versuchen.",
        "Ich überlege es mir noch.",
        "Es ist noch nichts in Stein gemeißelt.",
        "Wir reden im neuen Jahr noch mal in Ruhe darüber.",
        "Vielleicht gibt es ja eine Ausnahme, ich schaue mal, was sich machen lässt.",
        "Hm, also … ich kann natürlich noch mal fragen, versprechen kann ich nichts.",
    ],
)
def test_taking_it_back_caps_clarity(text):
    judged = judge_texts([END, text])
    assert judged["clarity"].own_score <= 0.3 and judged["clarity"].issue == "taken_back"


@pytest.mark.parametrize(
    "text",
    [
        "Eine Ausnahme kann ich nicht machen.",
        "Das kann ich Sie auch noch mal fragen.",
        "Ihr Gedächtnis arbeitet offenbar mit Sonderkonditionen.",
    ],
)
def test_refusing_an_exception_asking_back_or_mocking_a_discount_takes_nothing_back(text):
    judged = judge_texts([END, text])
    assert judged["clarity"].issue == "clear", text


def test_nerves_are_no_hedge():
    judged = judge_texts(["Ich bin ehrlich gesagt ein bisschen nervös. " + END])
    assert judged["clarity"].issue == "clear" and judged["clarity"].own_score >= 0.8


def test_agreeing_to_a_client_who_closes_the_matter_is_no_backing_down():
    judged = judge_texts(
        [END, "So machen wir es."],
        clients=["Hallo!", "Gut, dann schließen wir das ordentlich ab: erst die Handbücher."],
    )
    assert judged["clarity"].issue == "clear"


def test_an_end_said_only_in_a_later_answer_counts_less():
    first = judge_texts([END, "Ich verstehe Ihren Ärger."])["clarity"]
    second = judge_texts(["Schön, Sie zu hören. Wie läuft die Messe?", END])["clarity"]
    third = judge_texts(["Schön, Sie zu hören.", "Wie läuft die Messe?", END])["clarity"]
    assert first.own_score > second.own_score > third.own_score
    assert third.issue == "late" and third.quote == END


def test_the_last_word_on_the_decision_counts():
    judged = judge_texts([END, "Na gut, dann machen wir doch weiter.", "Nein – es bleibt dabei."])
    assert judged["clarity"].issue == "clear_after_hedge"
    assert judged["clarity"].own_score >= 0.6


def test_a_handover_that_lets_someone_else_carry_on_is_no_backing_down():
    text = "Sie bekommen alle Daten, damit jedes andere Büro nahtlos weitermachen kann."
    assert not assess(text).signals.get("backdown")
    judged = judge_texts([END, text])
    assert judged["clarity"].issue == "clear" and judged["calm"].own_score >= 0.9


def test_an_end_thrown_at_the_client_in_anger_is_only_half_clear():
    judged = judge_texts(["Mit Ihrem Saftladen bin ich durch."])
    assert judged["clarity"].own_score <= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Wir machen ab Januar nur noch Onlineshops für größere Händler.",
        "Wir stellen die Agentur ganz auf Onlineshops um.",
        "Das rechnet sich für uns nicht mehr.",
        "Wir haben keine Kapazitäten mehr.",
        "Im Vertrag steht, dass Sie in 14 Tagen zahlen.",
    ],
)
def test_business_reasons_in_own_words_are_reasons(text):
    assert judge_texts([END, text])["reasons"].own_score >= 0.7, text


def test_a_sweeping_reproach_is_a_weak_reason():
    judged = judge_texts([END, "Das mit dem Zahlen klappt bei Ihnen halt nie so richtig."])
    assert judged["reasons"].own_score <= 0.4


def test_a_calm_factual_conversation_is_calm():
    judged = judge_texts([END, "Die offenen Rechnungen sind der Grund. Die Daten bekommen Sie."])
    assert judged["calm"].own_score >= 0.8 and judged["calm"].issue == "no_acknowledgement"
    acknowledged = judge_texts([END, "Ich verstehe, dass Sie das ärgert."])
    assert acknowledged["calm"].own_score > judged["calm"].own_score


def test_honestly_said_is_no_reported_speech():
    a = assess("Ehrlich gesagt gehen mir Ihre Bewertungen am Allerwertesten vorbei.")
    assert a.scores["respect"] <= 0.3
    assert assess("Sie haben meine Kollegin unfähig genannt.").scores["respect"] >= 0.9
    assert assess("Ehrlich gesagt: Ihr WLAN ist nicht mehr mein Problem.").scores["respect"] <= 0.3


def test_giving_in_to_a_hurt_client_costs_calm():
    judged = judge_texts(
        [
            "Wir beenden den Pflegevertrag.",
            "Es ist noch nichts in Stein gemeißelt, vielleicht ändert sich gar nicht so viel.",
        ]
    )
    assert judged["calm"].own_score <= 0.6


# ------------------------------------------------------------------ row 8 (general rules)
# The worst moment counts at sentence level: what is said AT the client, not what is negated,
# reported or said about us. Written from general German, with the siblings of each wording.


@pytest.mark.parametrize(
    "text",
    [
        "Ich sage nicht, dass Sie eine Betrügerin sind.",
        "Ich habe nie behauptet, dass Sie lügen.",
        "Ich sag nicht, dass du ein Idiot bist.",
        "Niemand sagt, dass Sie unfähig sind.",
        "Ich werfe Ihnen nicht vor, dass Sie gelogen haben.",
        "Das heißt nicht, dass Ihre Arbeit schlecht war.",
    ],
)
def test_a_negated_frame_negates_its_dass_clause(text):
    assert assess(text).scores["respect"] >= 0.9, text


def test_an_affirmed_frame_still_counts():
    assert assess("Ich sage ja, dass Sie ein Betrüger sind.").scores["respect"] < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Wir haben jeden Ihrer Punkte geprüft und Ihnen jedes Mal mit dem Vertrag geantwortet.",
        "Auch wenn es nicht immer einfach war, hat es Spaß gemacht.",
        "Sie waren nicht immer einfach.",
        "Ich habe jedes Mal zu spät reagiert.",
        "Wir haben ständig nachgebessert.",
        "Sie waren immer sehr freundlich.",
        "Seit März zahlen Sie jedes Mal 60 Tage zu spät.",
    ],
)
def test_sweeping_words_outside_a_reproach_are_no_generalisation(text):
    assert "generalisation" not in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    ["Sie kommen jedes Mal zu spät.", "Sie zahlen nie pünktlich.", "Sie melden sich ständig."],
)
def test_sweeping_words_at_the_client_are_a_generalisation(text):
    assert "generalisation" in assess(text).signals, text


def test_self_criticism_is_no_counter_attack():
    calm = judge_texts(
        [END, "Ich fasse mir da auch an die eigene Nase, ich hätte früher reden müssen."]
    )
    assert calm["calm"].own_score >= 0.9
    assert "counter_attack" in assess("Fassen Sie sich mal an die eigene Nase.").signals


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("Mein Anwalt schickt Ihnen eine Unterlassungserklärung.", "threat"),
        ("Mal sehen, wer dann lacht.", "threat"),
        ("Dann sehen wir uns eben vor Gericht.", "threat"),
        ("Das wird ein gerichtliches Nachspiel haben.", "threat"),
        ("Das erkläre ich Ihnen gern noch ein drittes Mal.", "condescension"),
        ("Wie ich Ihnen bereits mehrfach erklärt habe, endet der Vertrag.", "condescension"),
        ("Wie ich dir schon gesagt habe, ist Schluss.", "condescension"),
        ("Das habe ich Ihnen doch schon hundertmal gesagt.", "condescension"),
        ("Mit Verlaub, das sehen Sie falsch.", "sarcasm"),
        ("Da bin ich ja mal gespannt.", "sarcasm"),
        ("Viel Spaß mit der Maschinenübersetzung.", "sarcasm"),
        ("Der freut sich bestimmt, wenn er auch drei Monate warten darf.", "sarcasm"),
        ("Das ist Ihre Sache.", "cool"),
        ("Das müssen Sie selbst regeln.", "cool"),
        ("Da werden Sie schon jemanden finden.", "cool"),
        ("Agenturen gibt es genug.", "cool"),
        ("Sehen Sie zu, wie Sie klarkommen.", "cool"),
        ("Das ist nicht mein Problem.", "dismissive"),
        ("Das ist normal, da muss man nicht gleich beleidigt sein.", "dismissive"),
        ("Dafür gibt es ja Google.", "dismissive"),
        ("einfach mal googeln, das kriegen sie schon hin", "dismissive"),
        ("So kompliziert ist Ihre Seite nun wirklich nicht.", "dismissive"),
        ("jetzt hoeren sie doch mal auf zu feilschen wie aufm flohmarkt", "dismissive"),
        ("Ihr Anwalt wird Ihnen dasselbe sagen, wenn er lesen kann.", "insult"),
        ("Sie behaupten seit Monaten Dinge, die schlicht gelogen sind.", "blame"),
        ("Ich habe den Eindruck, dass Sie Ihren eigenen Vertrag nicht verstehen.", "condescension"),
        ("Das verstehen Sie sicher, auch wenn Technik nicht so Ihr Ding ist.", "condescension"),
        ("Das kriegt jeder Student mit einem Baukasten hin.", "condescension"),
        ("Ein Blick in die Serverprotokolle wäre mal eine Premiere.", "sarcasm"),
        ("Ihre Buchhaltung ist ja ein Bermudadreieck.", "sarcasm"),
    ],
)
def test_threats_irony_condescension_and_brush_offs_cost_respect(text, issue):
    a = assess(text)
    assert issue in a.signals, (text, dict(a.signals))
    assert a.scores["respect"] <= 0.65, text


@pytest.mark.parametrize(
    "text",
    [
        "Unser Anwalt hat den Vertrag geprüft.",
        "Die Projekte mit Ihnen haben viel Spaß gemacht.",
        "Wir haben Sie zum dritten Mal gemahnt.",
        "Das haben wir Ihnen mehrfach schriftlich erklärt.",
        "Die neue Agentur freut sich bestimmt über Sie.",
        "Das ist mir nicht egal.",
        "Wissen Sie, wir sind nur zu dritt, und die Saison ist voll.",
        "Ihre Messestände waren immer die Projekte, auf die sich unser Team gefreut hat.",
        "Ihre Lesungsreihe war für uns immer etwas ganz Besonderes.",
        "Sie waren nicht gleich beleidigt, das rechne ich Ihnen hoch an.",
        "Sie haben meine Kollegin eine Lügnerin genannt.",
    ],
)
def test_their_neutral_siblings_cost_nothing(text):
    assert assess(text).scores["respect"] >= 0.9, (text, dict(assess(text).signals))


@pytest.mark.parametrize(
    "text",
    [
        "Wenn die Bewertung nicht online geht, mache ich die Fotos noch mal.",
        "Den Newsletter mache ich Ihnen einfach nebenbei weiter.",
        "Ja, okay, das kriegen wir schon irgendwie hin.",
        "Das besprechen wir alles in Ruhe im neuen Jahr.",
        "Wir könnten Ihnen auch 20 Prozent Rabatt geben.",
        "Wir können Ihnen beim Preis entgegenkommen.",
    ],
)
def test_giving_in_as_a_deal_or_promise_costs_calm(text):
    verdict = judge_texts(["Ich rufe an, weil wir über die Zusammenarbeit reden müssen.", text])
    assert verdict["calm"].own_score <= 0.5, text


@pytest.mark.parametrize(
    "text",
    [
        "Die Fotos mache ich nicht noch mal.",
        "Wir können Ihnen beim Preis nicht entgegenkommen.",
        "Einen Rabatt kann ich Ihnen nicht geben.",
        "Das kriegen wir nicht hin.",
        "Bis Ende März machen wir ganz normal weiter.",
        "Die Übergabe besprechen wir im neuen Jahr.",
    ],
)
def test_refusing_or_continuing_until_the_end_is_no_giving_in(text):
    signals = assess(text).signals
    assert "gives_in" not in signals and "backdown" not in signals, (text, dict(signals))


def test_a_deal_after_a_clear_end_takes_it_back():
    verdict = judge_texts(
        [
            "Frau Haas, das war's für uns. Wir machen keine Aufträge mehr für Sie.",
            "Okay, hören Sie. Wenn die Bewertung nicht online geht, mache ich die Fotos noch mal.",
        ]
    )
    assert verdict["clarity"].own_score <= 0.3


@pytest.mark.parametrize(
    "text",
    [
        "Wir hören zum 31. März mit der Betreuung Ihrer Website auf.",
        "Zum 31. März hören wir mit der Betreuung auf.",
        "Wir steigen zum Jahresende aus dem Vertrag aus.",
        "Wir ziehen uns zum Quartalsende aus der Zusammenarbeit zurück.",
        "Ab April betreuen wir Sie nicht mehr.",
        "Ab dem 1. Juli sind wir nicht mehr Ihre Agentur.",
        "Wir legen das Mandat zum 30. Juni nieder.",
    ],
)
def test_separable_and_inverted_end_verbs_are_clear(text):
    assert assess(text).scores["clarity"] >= 0.9, text


@pytest.mark.parametrize("text", ["Wir hören auf Ihre Wünsche.", "Ich höre Ihnen zu."])
def test_listening_is_no_end(text):
    assert "clear_end" not in assess(text).signals


def test_an_end_point_may_have_adjectives():
    text = "Nach dem letzten gebuchten Termin beenden wir die Zusammenarbeit."
    assert "end_point" in assess(text).signals


@pytest.mark.parametrize(
    "turns",
    [
        [END, "Ja, also, auch wegen der Rechnung, aber eigentlich …"],
        [END, "Das stimmt, bezahlt wird immer."],
        [END, "Die Abzüge bei den Rechnungen sind für uns schwierig."],
        [END, "Mein Team ist halt ziemlich gestresst, sag ich mal."],
    ],
)
def test_hedged_conceded_or_merely_rated_reasons_are_vague(turns):
    assert judge_texts(turns)["reasons"].own_score <= 0.3, turns


def test_a_named_fact_with_a_number_stays_concrete_despite_a_rating():
    turns = [END, "Die Abzüge von 20 Prozent auf jede Rechnung sind für uns schwierig."]
    assert judge_texts(turns)["reasons"].own_score >= 0.8


def test_a_belittling_simile_counts_even_inside_a_report():
    a = assess("Sie haben meine Mitarbeiterin am Dienstag angebrüllt wie ein Irrer.")
    assert a.scores["respect"] < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Herr Lindner, ein Rabatt war nie vereinbart.",
        "Herr Lindner, es gibt keine App im Festpreis.",
        "Das steht nicht im Vertrag.",
    ],
)
def test_a_rebuttal_in_the_dispute_is_no_reason_to_end(text):
    assert judge_texts([END, text])["reasons"].own_score <= 0.3, text
    assert "generalisation" not in assess(text).signals, text


def test_a_reason_that_names_the_broken_agreement_with_a_figure_stays():
    text = "Sie ziehen bei jeder Rechnung 20 Prozent ab, obwohl das nicht vereinbart ist."
    assert judge_texts([END, text])["reasons"].own_score >= 0.8


def test_reading_the_contract_to_the_client_is_lecturing():
    assert "condescension" in assess("Lesen Sie den Vertrag.").signals
    assert assess("Wenn Sie den Vertrag lesen, sehen Sie es.").scores["respect"] >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "Glauben Sie, was Sie wollen.",
        "Mehr sage ich dazu nicht.",
        "Dann haben Sie es falsch verstanden.",
    ],
)
def test_waving_the_client_off_in_irritation_costs_respect(text):
    assert assess(text).scores["respect"] <= 0.5, text


def test_a_gentle_correction_is_no_lecture():
    assert assess("Da haben Sie mich falsch verstanden.").scores["respect"] >= 0.9


def test_one_sarcastic_remark_in_a_firm_conversation_is_a_slip_not_a_collapse():
    verdict = judge_texts(
        [
            "Herr Berger, wir verlängern den Rahmenvertrag nicht, er endet im September.",
            "Sie ziehen bei fast jeder Rechnung 10 bis 20 Prozent ab, obwohl der Preis feststeht.",
            "Na dann viel Spaß mit der Maschinenübersetzung.",
            "Die zwei laufenden Aufträge liefern wir noch fertig.",
        ]
    )
    assert 0.3 <= verdict["calm"].own_score <= 0.7


@pytest.mark.parametrize(
    "text",
    [
        "Ich wünsche Ihnen viel Spaß mit dem neuen Shop.",
        "Viel Spaß bei der Messe!",
        "Die Domain läuft aus, das erledigt sich dann von selbst.",
        "Mal sehen, wie wir das lösen.",
    ],
)
def test_genuine_wishes_and_plain_remarks_are_no_irony(text):
    assert assess(text).scores["respect"] >= 0.9, (text, dict(assess(text).signals))


def test_a_tit_for_tat_challenge_is_a_counter_threat():
    assert "threat" in assess("Mal sehen, wer mehr Likes kriegt.").signals


def test_naming_the_last_job_is_an_end_point():
    text = "Der Messestand wird unser letzter gemeinsamer Job."
    assert assess(text).scores["clarity"] > 0.75


@pytest.mark.parametrize(
    "text",
    [
        "Sie haben immer pünktlich bezahlt, das schätze ich sehr.",
        "Sie waren stets freundlich.",
        "Sie sind mir als Kundin immer sympathisch gewesen.",
    ],
)
def test_always_with_praise_is_appreciation_not_a_generalisation(text):
    assert "generalisation" not in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Sie haben recht, das hätten wir klarer sagen sollen.",
        "Die Übergabe kriegen wir gut hin.",
        "Ich mache es noch mal deutlich: Die Entscheidung steht.",
    ],
)
def test_conceding_a_detail_or_promising_the_handover_is_no_backing_down(text):
    assert "backdown" not in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Sie sind echt das Letzte.",
        "Mit Ihnen ist einfach nicht zu reden.",
        "Ich hab echt keinen Nerv mehr für Ihre Spielchen.",
        "Da lachen ja die Hühner.",
        "Jetzt seien Sie doch nicht so empfindlich.",
        "Können Sie nicht lesen?",
    ],
)
def test_contempt_with_an_inserted_word_still_counts(text):
    assert assess(text).scores["respect"] <= 0.5, text


@pytest.mark.parametrize(
    "text",
    [
        "Sie können mir gern eine Mail schreiben.",
        "Sie können mir nichts vorwerfen, was nicht stimmt.",
    ],
)
def test_polite_sentences_with_the_same_words_stay_calm(text):
    assert assess(text).scores["respect"] >= 0.9 and "counter_attack" not in assess(text).signals


@pytest.mark.parametrize(
    "text",
    [
        "Dann verschieben wir das Ganze erst mal.",
        "Für Sie mache ich eine Ausnahme.",
        "Das mit der Kündigung war vielleicht etwas voreilig.",
    ],
)
def test_postponing_or_regretting_the_decision_is_backing_down(text):
    assert "backdown" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Eine Ausnahme machen wir nicht.",
        "Die Kündigung war nicht voreilig, wir haben lange überlegt.",
    ],
)
def test_refusing_it_is_not(text):
    assert "backdown" not in assess(text).signals and "gives_in" not in assess(text).signals


@pytest.mark.parametrize(
    "text",
    [
        "Wir werden Ihre Aufträge künftig nicht mehr annehmen.",
        "Ab Januar arbeiten wir nicht mehr zusammen.",
        "Wir werden den Vertrag nicht erneuern.",
        "Wir geben das Mandat zum Jahresende zurück.",
        "Wir machen ab Januar nicht mehr weiter.",
        "Wir steigen aus.",
        "Ab April sind wir raus.",
    ],
)
def test_more_end_verbs_in_every_word_order_are_clear(text):
    assert "clear_end" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    ["Wir geben Ihnen die Unterlagen zurück.", "Sind wir raus?", "Wir steigen bei Ihnen ein."],
)
def test_their_everyday_siblings_are_no_end(text):
    assert "clear_end" not in assess(text).signals, text


def test_a_new_focus_with_the_subject_in_the_first_clause_is_a_reason():
    text = "Wir haben uns neu ausgerichtet und machen nur noch Onlineshops."
    assert judge_texts([END, text])["reasons"].own_score >= 0.7
    assert "reason_fact" not in assess("Sie machen nur noch Ärger.").signals


@pytest.mark.parametrize(
    "text",
    [
        "Ich finde es nicht in Ordnung, dass Sie lügen.",
        "Es geht nicht, dass Sie uns belügen und dreist sind.",
    ],
)
def test_a_negated_evaluation_keeps_its_dass_clause_a_reproach(text):
    assert assess(text).scores["respect"] <= 0.5, text


def test_a_comparative_retort_is_a_counter_attack_and_my_worry_is_a_brush_off():
    text = "Doch, so rede ich mit Ihnen, weil Sie mit meinem Team noch viel schlimmer reden."
    assert "counter_attack" in assess(text).signals
    assert assess("Das lassen Sie mal meine Sorge sein.").scores["respect"] <= 0.5


# --- row 9: general rules from reading blind3/blind4 (written as general German) ---


@pytest.mark.parametrize(
    "text",
    [
        "Wenn Sie Ihren Anwalt einschalten möchten, ist das Ihr Recht.",
        "Schalten Sie ruhig Ihren Anwalt ein, das steht Ihnen frei.",
        "Falls du deinen Anwalt einschalten willst, ist das dein Recht.",
        "Rechtliche Schritte stehen Ihnen natürlich frei.",
        "Ihre Anwältin einzuschalten ist Ihr Recht.",
    ],
)
def test_granting_the_client_his_lawyer_is_no_threat(text):
    assert "threat" not in assess(text).signals, text
    assert assess(text).scores["respect"] >= 0.8, text


@pytest.mark.parametrize(
    "text",
    [
        "Dann werden wir unseren Anwalt einschalten.",
        "Dann muss ich meinen Anwalt einschalten.",
        "Dann müssen wir einen Anwalt einschalten.",
        "Sonst bleibt uns nur, einen Anwalt einzuschalten.",
        "Wir werden rechtliche Schritte gegen Sie einleiten.",
    ],
)
def test_our_own_lawyer_stays_a_threat(text):
    assert "threat" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Sie haben in sechs Jahren nie eine Rechnung zu spät bezahlt.",
        "Sie haben sich nie beschwert, auch nicht bei Verzögerungen.",
        "Ihr Team war bei den Abnahmen immer hervorragend vorbereitet.",
        "Ihre Unterlagen waren stets sorgfältig und vollständig.",
        "Du warst immer ausgezeichnet vorbereitet.",
    ],
)
def test_praise_with_always_or_never_is_no_generalisation(text):
    assert "generalisation" not in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Sie zahlen nie pünktlich.",
        "Sie haben nie pünktlich bezahlt.",
        "Ihre Rechnungen kommen ständig zu spät.",
        "Sie bezahlen Ihre Rechnungen immer zu spät.",
    ],
)
def test_reproaches_with_always_or_never_stay_generalisations(text):
    assert "generalisation" in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Hallo Frau Berg, den Newsletter machen wir gern noch mit Ihnen. Ich rufe aber an, "
        "weil ich Ihnen etwas sagen muss, das mir nicht leichtfällt: Unser Vertrag endet zum "
        "31. Dezember, danach betreuen wir Ihre Website und den Newsletter nicht mehr.",
        "Ja, es geht um den Vorfall vom Dienstag, aber nicht nur. Sie haben meine Kollegin am "
        "Dienstag angeschrien, und das war nicht das erste Mal, im Oktober und im Dezember gab "
        "es das auch schon. Wir haben vor zwei Monaten darüber gesprochen, danach war es kurz "
        "besser. Mein Team nimmt Ihre Anrufe nicht mehr an, und ich stelle mich vor meine Leute.",
    ],
)
def test_one_aber_in_a_long_factual_turn_is_no_self_justification(text):
    assert "justification" not in assess(text).signals


def test_a_long_turn_with_a_defensive_phrase_or_several_aber_stays_a_justification():
    text = (
        "Wir haben Ihnen zweimal erklärt, dass die Preise im Vertrag stehen, und wir haben "
        "alles versucht, wir haben Ihnen Rabatte angeboten, wir haben Sonderwünsche umsonst "
        "gemacht, aber irgendwann muss ich auch an mein Team denken und an unsere Kosten."
    )
    assert "justification" in assess(text).signals
    text = "Ja, aber wir haben das so gemacht, aber Sie wollten es anders."
    assert "justification" in assess(text).signals


@pytest.mark.parametrize(
    "text",
    [
        "Einen Rabatt-Deal machen wir aber nicht, das würde das Problem nur verschieben.",
        "Zehn Prozent Nachlass geben wir aber nicht.",
        "Für die laufenden Aufträge finden wir eine Lösung.",
        "Das bekommen wir gut geregelt, da finden wir eine Lösung.",
        "Für die Übergabe finden wir einen Termin, da finden wir eine Lösung.",
    ],
)
def test_a_refused_discount_or_a_handover_solution_is_no_backdown(text):
    assert "backdown" not in assess(text).signals, text


@pytest.mark.parametrize(
    "text",
    [
        "Ich gebe Ihnen zehn Prozent Rabatt.",
        "Gut, dann finden wir eine Lösung beim Preis.",
        "Wir finden doch bestimmt einen Weg, weiterzumachen.",
    ],
)
def test_a_discount_or_a_solution_on_the_deal_stays_a_backdown(text):
    assert "backdown" in assess(text).signals, text


DEALS = [
    "Wir könnten Ihnen auch 20 Prozent Rabatt auf die offenen Rechnungen geben.",
    "Ich kann Ihnen 10 Prozent Rabatt auf die laufenden Übersetzungen anbieten.",
    "Wir würden dir einen Nachlass auf die offenen Rechnungen gewähren.",
    "Ich gebe dir 3 Prozent Skonto auf die laufenden Aufträge.",
    "Wir könnten Ihnen beim Preis für die laufenden Projekte entgegenkommen.",
]


@pytest.mark.parametrize("text", DEALS)
def test_a_discount_offered_as_a_deal_is_no_reason_and_no_handover(text):
    result = assess(text)
    if "entgegen" not in text:  # the discount family counts as backing down (rules.yml)
        assert "backdown" in result.signals, text
    assert result.scores["reasons"] == 0.0 and result.scores["transition"] == 0.0, text
    judged = judge_texts([END, text])
    assert judged["reasons"].quote != text and judged["transition"].quote != text, text
    assert judged["reasons"].own_score == 0.0 and judged["transition"].own_score == 0.0, text


def test_a_real_reason_and_a_real_handover_still_count_beside_a_deal():
    reason = "Seit einem Jahr kommen die Zahlungen 45 bis 90 Tage zu spät."
    handover = "Ich schicke Ihnen bis Freitag alle Druckdateien."
    assert assess(reason).scores["reasons"] > 0 and assess(handover).scores["transition"] > 0
    judged = judge_texts([END, DEALS[0], reason, DEALS[1], handover])
    assert judged["reasons"].quote == reason and judged["reasons"].own_score > 0
    assert judged["transition"].quote == handover and judged["transition"].own_score > 0


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("alle bilder schick ich Ihnen bis ende des monats", "transition_docs"),
        ("Das Lagerhandbuch bekommen Sie wie vereinbart Ende des Monats.", "transition_tasks"),
        ("Das Handbuch liefern wir bis zum 20. Mai zum Vertragspreis.", "transition_tasks"),
    ],
)
def test_finishing_the_running_work_and_sending_the_files_are_a_handover(text, signal):
    assert signal in assess(text).signals, (text, dict(assess(text).signals))


@pytest.mark.parametrize(
    "text",
    [
        "erst zahlen, dann reden wir ueber daten.",
        "die rohdaten gehoeren gar nix Ihnen, lesen Sie Ihren vertrag.",
    ],
)
def test_files_withheld_or_refused_are_no_handover(text):
    assert judge_texts([END, text])["transition"].issue == "missing", text
