"""Play role-plays with the coach over REST and write them as readable Markdown transcripts.

    .venv/bin/python -m devtools.roleplay_transcripts [--out docs/transcripts/roleplay]
    .venv/bin/python -m devtools.roleplay_transcripts --url http://127.0.0.1:5005

Like ``devtools.transcripts`` (same servers, same Markdown): every role-play of
:data:`ROLEPLAYS` is set up the way a user does it (ask to practise, pick the scenario and the
level), then the user's lines are sent until the role-play ends – the client accepts, leaves,
wraps up, or the user stops – and the messages of ``after`` show what happens once it is over.
Good, mixed and poor users across the scenarios and levels. A few mechanical checks (the
role-play did not end, a client line repeated, a client line after the end) are printed and
listed in the index – hints, not a verdict; the transcripts are meant to be read.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from bot.roleplay.scenarios import load_scenarios
from devtools.servers import ServerPair
from devtools.transcripts import (
    Client,
    Conversation,
    Played,
    Turn,
    _button_title,
    render,
    start_servers,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "transcripts" / "roleplay"
#: the coach's words that close a role-play (texts.yml finished.*, stopped_early)
END_MARKERS = ("Ende des Rollenspiels", "Du hast das Rollenspiel beendet")


@dataclass(frozen=True)
class RolePlay:
    """One scripted role-play: scenario, level, the user's lines, messages after the end."""

    slug: str
    title: str
    description: str
    scenario: str
    level: int
    lines: Sequence[str]
    after: Sequence[str] = ()


GOOD_LATE = [
    "Guten Tag Frau Krüger, danke, dass Sie sich Zeit nehmen. Ich habe entschieden: Nach dem "
    "laufenden Auftrag nehme ich keine neuen Aufträge von Ihnen mehr an.",
    "Der Grund sind die wiederholt verspäteten Zahlungen – im letzten Jahr kam jede Rechnung "
    "45 bis 90 Tage zu spät, und die Ratenvereinbarung im Frühjahr wurde nicht eingehalten.",
    "Ich verstehe, dass Sie das mitten in der Saison trifft. An der Entscheidung ändert das "
    "aber nichts.",
    "Den laufenden Messestand machen wir fertig, und ich schicke Ihnen bis Ende des Monats alle "
    "Druckdaten und Vorlagen. Gern empfehle ich Ihnen auch ein anderes Grafikbüro.",
    "Vielen Dank für die vier Jahre und die schönen Projekte.",
    "Ich verstehe Sie. Die Entscheidung steht trotzdem.",
    "Die Druckdaten bekommen Sie vollständig, und die offenen Rechnungen klären wir schriftlich.",
    "Danke, dass Sie mir zugehört haben.",
    "Ich verstehe, dass das nicht leicht ist. Es bleibt dabei.",
    "Alle Vorlagen übergebe ich Ihnen bis Monatsende.",
    "Danke für Ihr Verständnis.",
    "Ich bleibe bei meiner Entscheidung.",
]

ROLEPLAYS: List[RolePlay] = [
    RolePlay(
        "spaetzahlerin-stufe-1-gut",
        "Die Spätzahlerin, Stufe 1 – gut vorbereitet",
        "Klare Ansage, konkreter Grund, Verständnis, Übergabe, Dank: Frau Krüger gibt nach "
        "und nennt den nächsten Schritt.",
        "late_payer",
        1,
        GOOD_LATE,
        ["Ich kann Ihnen 15 Prozent Rabatt geben, wenn Sie bis Freitag zahlen."],
    ),
    RolePlay(
        "spaetzahlerin-stufe-3-gut",
        "Die Spätzahlerin, Stufe 3 – dieselben Sätze",
        "Wortgleich dieselbe Nutzerin wie in 01, aber Stufe 3: schärferer Einstieg, mehr "
        "Gegenwind, bevor Frau Krüger einlenkt.",
        "late_payer",
        3,
        GOOD_LATE,
    ),
    RolePlay(
        "spaetzahlerin-angebote-abbruch",
        "Die Spätzahlerin, Stufe 2 – Frist, Rabatt, Entschuldigung, dann Abbruch",
        "Die Sätze aus dem Testbericht: Zahlungsfrist, Rabatt, „tut mir leid“ – die Kundin "
        "antwortet darauf; dann bricht die Nutzerin mit eigenen Worten ab.",
        "late_payer",
        2,
        [
            "Frau Krüger, ich beende unsere Zusammenarbeit nach dem laufenden Auftrag.",
            "Können Sie bis zum 30. zahlen?",
            "Wir könnten Ihnen auch 20 Prozent Rabatt auf die offenen Rechnungen geben.",
            "Es tut mir leid, dass es so gekommen ist.",
            "Wie sehen Sie das?",
            "Ich möchte das Rollenspiel abbrechen",
        ],
        ["Wie kann ich mich auf so ein Gespräch vorbereiten?"],
    ),
    RolePlay(
        "drohung-anwalt-zugestaendnis",
        "Drohung mit Bewertung und Anwalt, Stufe 1 – die Kundin nimmt etwas zurück",
        "Eine Entschuldigung zu Beginn: Frau Haas räumt ein, mit dem Anwalt voreilig gewesen "
        "zu sein – und droht danach nicht mehr damit.",
        "threatens_reviews",
        1,
        [
            "Frau Haas, das mit den Penthouse-Fotos tut mir leid.",
            "Ich habe mich trotzdem entschieden, die Zusammenarbeit nach dem letzten gebuchten "
            "Termin zu beenden.",
            "Der Grund sind die wiederholten Drohungen mit Bewertungen, die mein Team unter "
            "Druck setzen.",
            "Ich verstehe, dass Sie das ärgert.",
            "Sie bekommen alle Bilder in voller Auflösung, und die Nutzungsrechte regeln wir "
            "schriftlich.",
            "Vielen Dank für die anderthalb Jahre.",
            "Die Entscheidung steht.",
            "Ich schicke Ihnen die Vereinbarung zu den Rechten bis Freitag.",
            "Danke.",
        ],
    ),
    RolePlay(
        "preisdruecker-rabatt-stufe-3",
        "Der Preisdrücker, Stufe 3 – ein Rabatt als Einladung",
        "Die Nutzerin bietet mitten im Gespräch einen Rabatt an: Herr Berger nimmt ihn als "
        "Einstieg und drückt weiter; danach bleibt sie fest.",
        "price_squeezer",
        3,
        [
            "Herr Berger, ich verlängere den Rahmenvertrag zum Ende der Laufzeit nicht.",
            "Der Grund sind die nachträglichen Abzüge von 10 bis 20 Prozent auf fast jede "
            "Rechnung.",
            "Ich kann Ihnen 10 Prozent Rabatt auf die laufenden Übersetzungen anbieten.",
            "Nein, dabei bleibt es. Die Entscheidung steht.",
            "Ich verstehe, dass das für Ihren Vorstand unangenehm ist.",
            "Die laufenden Handbücher liefern wir fertig, und Sie bekommen Glossare und "
            "Übersetzungsspeicher.",
            "Ich verstehe Sie. Es bleibt beim Vertragsende.",
            "Danke für die drei Jahre Zusammenarbeit.",
            "Die Übergabe der Glossare schicke ich Ihnen bis Monatsende.",
            "Ich bleibe dabei.",
            "Vielen Dank.",
            "Ich verstehe Ihren Ärger.",
        ],
    ),
    RolePlay(
        "extras-weichgespuelt",
        "Immer noch eine Kleinigkeit extra, Stufe 2 – weich und vorwurfsvoll",
        "Die Nutzerin sagt nicht klar, was sie will, und wird dann vorwurfsvoll: Herr Albers "
        "versteht es falsch und wird laut.",
        "extras",
        2,
        [
            "hallo herr albers, also ich weiß nicht, vielleicht sollten wir mal über alles "
            "nachdenken",
            "naja, eventuell wäre es besser, wenn wir etwas kürzertreten",
            "Sie wollen doch immer nur alles umsonst.",
            "Na toll, das ist ja wieder typisch für Sie.",
            "Das ist doch nicht mein Problem.",
            "Vielleicht machen wir irgendwann mal eine Pause.",
            "Sie sind echt unmöglich, wissen Sie das?",
            "Dann suchen Sie sich doch jemand Dummen, der alles umsonst macht.",
            "Hm.",
            "Naja.",
        ],
    ),
    RolePlay(
        "wollny-gegenangriff-stufe-3",
        "Der Kunde, der das Team beschimpft, Stufe 3 – Gegenangriff",
        "Die Nutzerin lässt sich provozieren: Herr Wollny bricht das Gespräch ab.",
        "insults_staff",
        3,
        [
            "Herr Wollny, wir beenden die Zusammenarbeit zum Ende der Kündigungsfrist.",
            "Weil Sie meine Mitarbeiterin am Dienstag angeschrien und unfähig genannt haben.",
            "Sie sind doch selbst unfähig, Ihre Rechner vernünftig zu bedienen.",
            "Na toll, wie immer nur Gebrüll von Ihnen.",
            "Sie benehmen sich wie ein Kleinkind.",
            "Sie sind ein unverschämter Choleriker.",
            "Das ist doch lächerlich, was Sie hier abziehen.",
        ],
    ),
    RolePlay(
        "stammkundin-fragen-stufe-1",
        "Die freundliche Stammkundin, Stufe 1 – mit Fragen",
        "Die Nutzerin fragt nach, wie Frau Vogel es sieht und was sie braucht; Frau Vogel "
        "antwortet darauf.",
        "hurt_polite",
        1,
        [
            "Hallo Frau Vogel, schön, Sie zu hören.",
            "Ich muss Ihnen leider sagen, dass wir die Zusammenarbeit zum Jahresende beenden.",
            "Das liegt nicht an Ihnen: Wir konzentrieren uns ab nächstem Jahr auf Onlineshops "
            "größerer Händler und beenden alle kleinen Pflegeverträge.",
            "Wie sehen Sie das?",
            "Was brauchen Sie von uns, damit es gut weitergeht?",
            "Ich empfehle Ihnen eine Agentur, die ich gut kenne, und übergebe bis Dezember alle "
            "Passwörter und Dateien.",
            "Vielen Dank für die sechs schönen Jahre.",
            "Ich verstehe, dass Sie traurig sind.",
            "Danke für Ihr Vertrauen.",
        ],
    ),
    RolePlay(
        "lindner-alte-streitpunkte-stufe-2",
        "Das war so aber vereinbart!, Stufe 2 – alte Streitpunkte, dann sachlich",
        "Die Nutzerin lässt sich erst auf den Rabatt-Streit ein, fragt nach, bleibt dann "
        "sachlich und bietet die Übergabe an.",
        "false_claims",
        2,
        [
            "Herr Lindner, ich beende die Zusammenarbeit zum Vertragsende.",
            "Weil wir über die Fakten nicht mehr zusammenkommen – App, Rabatt, Ausfälle.",
            "Wann soll der Rabatt denn zugesagt worden sein?",
            "Ich verstehe, dass Sie das anders sehen. An der Entscheidung ändert das nichts.",
            "Sie bekommen den kompletten Quellcode, alle Zugänge und eine Dokumentation.",
            "Danke für die zwei Jahre.",
            "Ich bleibe dabei.",
            "Die Übergabe schicke ich Ihnen bis Monatsende.",
            "Vielen Dank.",
        ],
    ),
    RolePlay(
        "stammkundin-schweigen-stufe-3",
        "Die freundliche Stammkundin, Stufe 3 – fast nichts gesagt",
        "Die Nutzerin bringt es nicht über sich: „Hm.“, „ok“, Smalltalk. Frau Vogel füllt die "
        "Stille und beendet das Telefonat, ohne dass etwas angekündigt wurde.",
        "hurt_polite",
        3,
        ["Hm.", "ok", "Wie war Ihr Wochenende?", "Hm.", "naja", "Hm.", "Hm.", "Hm.", "Hm."],
        ["lass uns das nochmal üben"],
    ),
    RolePlay(
        "wollny-chatstil-korrektur-stufe-2",
        "Der Kunde, der das Team beschimpft, Stufe 2 – im Chat-Stil, mit Korrektur",
        "Klein geschrieben, ohne Umlaute, erst ein Vorwand („keine kapazitaeten“), dann die "
        "Korrektur („nein, anders:“) mit dem eigentlichen Grund; die Auswertung soll die "
        "Sätze so zitieren, wie sie getippt wurden.",
        "insults_staff",
        2,
        [
            "hallo herr wollny, wir muessen den vertrag leider beenden, wir haben grad keine "
            "kapazitaeten mehr",
            "nein, anders: der eigentliche grund ist, dass sie meine kollegin am dienstag "
            "angebruellt und unfaehig genannt haben, das war schon das dritte mal",
            "wir kuendigen zum ende der kuendigungsfrist, das steht fest",
            "bis dahin laeuft alles normal, sie bekommen die netzwerkdoku und alle passwoerter, "
            "und ich empfehle ihnen einen anderen dienstleister",
            "danke fuer die zwei jahre, das neue netzwerk auf dem bauhof war ein schoenes projekt",
        ],
    ),
    RolePlay(
        "berger-chef-hat-entschieden-stufe-2",
        "Der Preisdrücker, Stufe 2 – hinter der Geschäftsleitung versteckt",
        "Die Trennung wird als Entscheidung der Geschäftsleitung überbracht, von der sich die "
        "Nutzerin distanziert („ich persönlich hätte das anders gemacht“); Grund und Übergabe "
        "sind gut. Die Auswertung soll das Distanzieren bei der Klarheit benennen, nicht die "
        "Entscheidung an sich.",
        "price_squeezer",
        2,
        [
            "Guten Tag, Herr Berger. Ich muss Ihnen leider etwas ausrichten: Unsere "
            "Geschäftsleitung hat entschieden, den Rahmenvertrag zum Ende der Laufzeit nicht zu "
            "verlängern.",
            "Ehrlich gesagt, ich persönlich hätte das anders gemacht, aber da habe ich nichts "
            "mitzureden. Es geht um die Abzüge: Bei neun von elf Rechnungen im letzten Jahr "
            "haben Sie zehn bis zwanzig Prozent gekürzt.",
            "Die laufenden Übersetzungen liefern wir bis zum 20. Januar zu den Vertragspreisen, "
            "danach bekommen Sie alle Dateien und das Glossar für Ihren neuen Dienstleister.",
            "Danke für die Jahre, Herr Berger – Ihre Handbücher waren fachlich immer "
            "anspruchsvoll.",
        ],
    ),
]


def _ended(replies: List[dict]) -> bool:
    return any(marker in (r.get("text") or "") for r in replies for marker in END_MARKERS)


def play(client: Client, number: int, roleplay: RolePlay) -> Played:
    """Set up the role-play, send the lines until it ends, then the ``after`` messages."""
    sender = f"roleplay-{number:02d}-{uuid.uuid4().hex[:8]}"
    conversation = Conversation(roleplay.slug, roleplay.title, roleplay.description, [])
    played = Played(number, conversation)
    name = load_scenarios()[roleplay.scenario].persona.name
    setup = ["Ich möchte ein Trennungsgespräch üben", roleplay.scenario, str(roleplay.level)]
    for message in setup:  # the scenario and the level are clicks on the coach's buttons
        title = played.turns and _button_title(played.turns[-1].replies, message)
        shown = f"[{title}]" if title else message
        played.turns.append(Turn(shown, message, client.chat(sender, message)))
    ended = False
    for line in roleplay.lines:
        replies = client.chat(sender, line)
        played.turns.append(Turn(line, line, replies))
        if _ended(replies):
            ended = True
            break
    for message in roleplay.after:
        replies = client.chat(sender, message)
        played.turns.append(Turn(message, message, replies))
        if any((r.get("text") or "").startswith(f"{name}:") for r in replies):
            played.hints.append(f"nach dem Ende noch eine Kundenzeile auf {message!r}")
    if not ended:
        played.hints.append("das Rollenspiel ist mit dem Skript nicht zu Ende gegangen")
    client_lines = [
        r["text"]
        for t in played.turns
        for r in t.replies
        if (r.get("text") or "").startswith(f"{name}:")
    ]
    if len(client_lines) != len(set(client_lines)):
        played.hints.append("eine Kundenzeile kommt zweimal vor")
    return played


def render_index(all_played: List[Played]) -> str:
    """The README of the transcript folder: one row per role-play, then the hints."""
    out = [
        "# Rollenspiel-Protokolle",
        "",
        "Rollenspiele mit dem Coach über REST, so wie eine Nutzerin sie erlebt: gut, "
        "gemischt und schwach vorbereitete Nutzerinnen, verschiedene Szenarien und Stufen. "
        "Erzeugt mit `.venv/bin/python -m devtools.roleplay_transcripts` (beide Server, "
        "neuestes Modell in `models/`).",
        "",
        "| Nr. | Rollenspiel | worum es geht |",
        "|---|---|---|",
    ]
    for played in all_played:
        conv = played.conversation
        out.append(
            f"| {played.number:02d} | [{conv.title}]({played.filename}) | {conv.description} |"
        )
    hints = [(p, h) for p in all_played for h in p.hints]
    out += ["", "## Mechanische Hinweise", ""]
    out += [f"* {p.filename}: {h}" for p, h in hints] or [
        "Keine (Rollenspiel zu Ende, keine Kundenzeile doppelt, keine Kundenzeile nach dem Ende)."
    ]
    return "\n".join(out) + "\n"


def write(all_played: List[Played], out_dir: Path) -> None:
    """One Markdown file per role-play plus the index; older numbered files are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("[0-9][0-9]-*.md"):
        old.unlink()
    for played in all_played:
        (out_dir / played.filename).write_text(render(played), encoding="utf-8")
    (out_dir / "README.md").write_text(render_index(all_played), encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Play every role-play and write the transcripts (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--rasa-port", type=int, default=16305)
    parser.add_argument("--action-port", type=int, default=16355)
    parser.add_argument("--url", help="use the Rasa server running at this URL (no start)")
    args = parser.parse_args(argv)

    pair: Optional[ServerPair] = None
    var_dir: Optional[Path] = None
    try:
        if args.url:
            client = Client(args.url)
        else:
            pair, var_dir = start_servers(args.rasa_port, args.action_port)
            client = Client(pair.base_url)
        all_played = []
        for number, roleplay in enumerate(ROLEPLAYS, start=1):
            played = play(client, number, roleplay)
            all_played.append(played)
            print(f"{played.filename}: {len(played.turns)} Nachrichten, {len(played.hints)} Hinw.")
    finally:
        if pair is not None:
            pair.stop()
        if var_dir is not None:
            shutil.rmtree(var_dir, ignore_errors=True)
    write(all_played, args.out)
    for played in all_played:
        for hint in played.hints:
            print(f"  {played.filename}: {hint}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
