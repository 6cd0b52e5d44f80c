"""Play realistic conversations with the coach over REST and write them as readable transcripts.

    .venv/bin/python -m devtools.transcripts [--out docs/transcripts] [--only 03,07]
    .venv/bin/python -m devtools.transcripts --url http://127.0.0.1:5005   # servers running

Starts the Rasa server and the action server (``devtools.servers.ServerPair``, the newest
model in ``models/``, a temporary var directory – the developer's ``var/`` is never touched),
plays every conversation of :data:`CONVERSATIONS` as a new user (its own sender id) and
writes one Markdown file per conversation, ``NN-slug.md``: a title, a one-line description,
then ``**Du:** …`` / ``**Coach:** …`` lines with buttons shown as ``[Button]`` (a message
that is the payload of a button the coach just showed is written as the clicked button),
plus an index ``README.md``.

The conversations are written the way staff write in a chat: lower case, typos, no umlauts,
background first, corrections midway, questions in the middle of a form. The transcripts are
meant to be READ by a person; a few mechanical checks (a reply repeated word for word, a
"not understood", a user's chat text inside a drafted letter) are printed as hints after the
run and listed in the index – they are hints, not a verdict.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import sys
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from devtools.servers import ServerPair, newest_model, port_in_use

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "transcripts"
TRAINER_CODE = "KLAR-TRANSCRIPT-01"
HTTP_TIMEOUT = 120.0

Reply = Dict[str, Any]


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation: what the user writes, in order."""

    slug: str
    title: str
    description: str
    messages: Sequence[str]


# What a user writes, as they write it. Payloads ("/affirm", "late_payer") are button clicks.
CONVERSATIONS: List[Conversation] = [
    Conversation(
        "falscher-farbton",
        "Unser Fehler: falscher Farbton, Entwurf kürzer und förmlicher",
        "Ein Fehler auf unserer Seite, erzählt in Chat-Sprache; der Entwurf an den Kunden wird "
        "kürzer, förmlicher, anders formuliert, dann besteht der Kunde auf der Gutschrift und "
        "die Nutzerin will doch lieber neu drucken (Issue 10, Punkte 7, 9, 10).",
        [
            "hi, wir haben bei nem kunden 500 flyer im falschen farbton gedruckt und jetzt ist "
            "er stinksauer",
            "ner, hab den falschen farbton genommen. hab ich doch grad geschrieben??",
            "jo, hat sich ausgekotzt am telefon",
            "schon spürbar, er braucht die flyer fürs wochenende",
            "kostenlos neu drucken",
            "kürzer",
            "förmlicher bitte",
            "kannst du das anders formulieren",
            "und wenn er trotzdem auf der gutschrift besteht?",
            "aber ich will ja eigentlich neu drucken",
            "danke dir!",
        ],
    ),
    Conversation(
        "gratis-extras",
        "Zusatzwünsche ohne Bezahlung, Nachfragen nach der Empfehlung",
        "Ein Kunde will ständig Extras gratis; freie Antworten („jaaa staendig“, „fast jeden "
        "tag“, „weiß nicht so genau…“), dann zwei Nachfragen nach der Empfehlung bis zum Weg "
        "zur Trennung (Issue 10, Punkte 7 und 9).",
        [
            "unser kunde will staendig extras die er nicht zahlen will. aktuell ne zweite logo "
            "variante umsonst",
            "ne zweite logo variante, umsonst natürlich",
            "nee eigentlich war das klar geregelt",
            "jaaa staendig",
            "weiß nicht so genau…",
            "eher nicht, das sind locker 2 tage arbeit",
            "gegen bezahlung",
            "/deny",
            "und was mach ich wenn er trotzdem nicht zahlen will",
            "und wenn er den kompromiss auch ablehnt?",
            "/ask_end_relationship",
        ],
    ),
    Conversation(
        "noch-nicht-geprueft",
        "Falsche Behauptung, intern noch nicht geprüft",
        "Der Kunde behauptet, eine Lieferung fehle; die Nutzerin hat noch nicht intern geprüft – "
        "der Entwurf darf keine Prüfung behaupten und keinen Chat-Text enthalten (Issue 10, "
        "Punkt 10).",
        [
            "kunde behauptet wir haetten ihm die ware nie geliefert, stimmt aber nicht",
            "er sagt ne lieferung fehlt, stimmt aber nich",
            "ne, hab ich noch nicht geprüft",
            "lieferschein und ne mail von ihm wo er den empfang bestätigt",
            "kürzer bitte",
            "/deny",
        ],
    ),
    Conversation(
        "beleidigung-mit-zwischenfrage",
        "Beleidigung am Telefon, mit Zwischenfrage, „Hm.“ und „zurück“",
        "Ein Kunde beschimpft die Nutzerin; mitten in den Fragen kommt eine Frage zur Kündigung, "
        "ein unschlüssiges „Hm.“ und ein „zurück“; am Ende wird der Vorfall festgehalten "
        "(Issue 10, Punkte 4–6).",
        [
            "der kunde hat mich heute am telefon als unfaehige idiotin beschimpft",
            "kann ich dem autohaus eigentlich kuendigen?",
            "Hm.",
            "schon oefter",
            "zurück",
            "immer wieder, obwohl ich es angesprochen hab",
            "beleidigend, unter der gürtellinie",
            "ja",
            "Autohaus Brandt",
        ],
    ),
    Conversation(
        "lohnt-es-sich-noch",
        "Lohnt es sich noch? Die zehn Warnzeichen mit freien Antworten und Korrektur",
        "„ob es sich noch lohnt mit denen“ führt zur Warnzeichen-Prüfung; die Antworten kommen "
        "frei formuliert, eine wird mittendrin korrigiert (Issue 10, Punkte 9 und 11).",
        [
            "ob es sich noch lohnt mit denen",
            "jaaa staendig",
            "ja die praxismanagerin und meine kollegin koennen sich nicht ausstehen",
            "weiß nicht so genau…",
            "nein",
            "fast jeden tag",
            "nee",
            "nein",
            "moment, bei der preisfrage meinte ich ja",
            "nö",
            "hm eher nicht",
            "ja leider, passt einfach nicht mehr zu uns",
            "ja, hatten wir schon, hat nix gebracht",
        ],
    ),
    Conversation(
        "zahlt-seit-drei-monaten",
        "Kunde zahlt seit drei Monaten nicht",
        "Ein Zahlungsproblem ist kein Anlass, eine persönliche Grenze festzulegen: der Weg zur "
        "Trennung mit den Warnzeichen – das schon genannte Zahlungsproblem zählt, ohne dass es "
        "noch einmal gefragt wird –, abgebrochen mit „stopp“, dann eine Frage zum Recht "
        "(Issue 10, Punkt 11).",
        [
            "unser kunde zahlt seit 3 monaten seine rechnungen nicht",
            "nein",
            "nein",
            "ne",
            "nein",
            "nee, preise sind ok",
            "stopp",
            "was muss ich rechtlich beachten wenn ich kuendige?",
            "Mehr dazu",
        ],
    ),
    Conversation(
        "kopf-frei",
        "Stress: zu viel Text, Kopf frei, „ich kann echt nicht mehr“",
        "Stress mit einem Kunden; kurze Antworten mit „Mehr dazu“, eine Zwischenfrage, zweimal "
        "dieselbe Bitte, eine Krise, dann der Satz, den der Coach selbst vorschlägt (Issue 10, "
        "Punkt 8).",
        [
            "mir wird das alles zu viel mit dem kunden, ich schlaf schon schlecht",
            "kann ich dem autohaus kuendigen?",
            "stopp",
            "zu viel text, wie krieg ich JETZT den kopf frei?",
            "zu viel text, wie krieg ich JETZT den kopf frei?",
            "ich kann echt nicht mehr",
            "Das lässt mich nicht los",
            "Mehr dazu",
        ],
    ),
    Conversation(
        "drohung-festhalten",
        "Drohung mit Gewalt im Laden, als Vorfall festgehalten",
        "Ein Kunde droht mit Schlägen; die Sicherheitsantwort kommt zuerst, der Vorfall wird "
        "festgehalten und im Verlauf angezeigt (Issue 10, Punkt 1 und Sicherheit).",
        [
            "ein kunde stand heute bei uns im laden und hat gesagt wenn seine reparatur morgen "
            "nicht fertig ist, kommt er vorbei und haut mir eine rein. der meinte das glaub ich "
            "ernst, er hat dabei mit der faust auf den tresen geschlagen",
            "ja",
            "Herr Brandt",
            "kein kommentar",
            "zeig mir den verlauf mit herrn brandt",
        ],
    ),
    Conversation(
        "falscher-fall",
        "Falscher Fall, mitten in den Fragen korrigiert",
        "Die erste Nachricht klingt nach einem eigenen Fehler; die Nutzerin korrigiert: der Kunde "
        "behauptet etwas Falsches (Issue 10, Punkt 2).",
        [
            "wir haben dem kunden die falsche ware geliefert und jetzt ist er sauer",
            "nein, wir haben keinen fehler gemacht! der kunde behauptet was, was nicht stimmt",
            "er sagt wir haetten die falschen teile geschickt, dabei hat er die selbst so bestellt",
            "ja hab ich, die bestellung ist eindeutig",
            "die auftragsbestaetigung und die kollegin aus dem vertrieb war dabei",
            "förmlicher",
            "/deny",
        ],
    ),
    Conversation(
        "azubine-belaestigt",
        "Belästigung einer Auszubildenden, Vorfall jetzt nicht festhalten",
        "Eine Teamleiterin schildert ausführlich, wie ein Mandant eine Auszubildende belästigt "
        "und am Arm packt; die Sicherheitsantwort nennt das AGG, festhalten lehnt sie vorerst ab.",
        [
            "hallo, ich bin teamleiterin in einer steuerkanzlei. wir haben eine 19-jaehrige "
            "azubine, die seit ein paar wochen einen mandanten betreut. der schreibt ihr abends "
            "private nachrichten, macht anspielungen auf ihr aussehen und letzte woche hat er sie "
            "beim rausgehen am arm gepackt und an sich gezogen. sie traut sich kaum noch ins "
            "buero. was mach ich?",
            "nein, erstmal nicht",
            "wie sag ich dem mandanten, dass wir nicht mehr fuer ihn arbeiten?",
        ],
    ),
    Conversation(
        "rollenspiel",
        "Rollenspiel: Trennungsgespräch mit einem säumigen Zahler",
        "Die Nutzerin übt das Trennungsgespräch, holt sich einen Tipp und bekommt am Ende die "
        "Rückmeldung je Kriterium.",
        [
            "ich will das trennungsgespraech mal ueben",
            "late_payer",
            "2",
            "Guten Tag, danke, dass Sie sich Zeit nehmen. Ich habe entschieden: Wir beenden die "
            "Zusammenarbeit zum 31. März.",
            "Tipp?",
            "Der Grund sind die Rechnungen, die seit Monaten offen sind – das können wir so nicht "
            "weiterführen.",
            "Ich verstehe, dass Sie das ärgert. An der Entscheidung ändert das aber nichts.",
            "Ich übergebe Ihnen bis Ende März alle Unterlagen und empfehle Ihnen gern einen "
            "anderen Anbieter.",
            "Vielen Dank für die gemeinsamen Jahre, ich wünsche Ihnen alles Gute.",
            "danke, das war hilfreich",
        ],
    ),
    Conversation(
        "rollenspiel-echte-gefahr",
        "Rollenspiel unterbrochen: ein echter Kunde droht",
        "Mitten im Rollenspiel passiert etwas Echtes; der Coach steigt aus der Rolle aus, gibt "
        "die Sicherheitsantwort, und die Nutzerin lässt den Vorfall festhalten – mit einer "
        "Notiz, die beschreibt, was passiert ist (Sicherheit im Rollenspiel).",
        [
            "rollenspiel starten",
            "insults_staff",
            "1",
            "Guten Tag, schön dass Sie da sind.",
            "sorry kurz raus: ein echter kunde hat mir gerade gedroht mich zu schlagen",
            "ja",
            "Herr Keller",
            "hat am telefon gesagt er kommt vorbei und schlägt mich",
            "ja",
            "keine notiz",
        ],
    ),
    Conversation(
        "grenzen-festlegen",
        "Persönliche Grenzen festlegen, geführt",
        "Die Nutzerin legt zum ersten Mal Grenzen fest, nimmt einige Vorschläge an, lehnt einen "
        "ab und lässt sich die Grenzen zeigen.",
        [
            "ich will mal grenzen festlegen",
            "ja gern",
            "ja",
            "ja klar",
            "nee, anschreien halt ich aus",
            "jo",
            "ja",
            "zeig mir meine grenzen",
        ],
    ),
    Conversation(
        "abgabe-korrektur-im-formular",
        "Zusatzwünsche mit Korrektur einer früheren Antwort",
        "Mitten in den Fragen korrigiert der Nutzer eine frühere Antwort und fragt zwischendurch, "
        "was das Ganze soll (Issue 10, Punkte 4 und 9).",
        [
            "moin, unser kunde will dass wir die website noch auf englisch uebersetzen, ohne "
            "aufpreis natuerlich",
            "die komplette website auf englisch, er meint das war mit drin",
            "nein",
            "hmm selten eigentlich",
            "korrektur: bei der vereinbarung meinte ich doch ja, das war nicht ganz klar",
            "wozu fragst du das alles?",
            "nein, eher nicht",
            "gegenleistung, vielleicht ne referenz",
            "/deny",
        ],
    ),
    Conversation(
        "visitenkarten-schweiz",
        "Druckfehler, ohne Umlaute: neu drucken und Rabatt",
        "Ein Druckfehler auf Visitenkarten, geschrieben ohne Umlaute und mit Schweizer ss; zwei "
        "Angebote in einer Antwort („kostenlos neu drucken und rabatt“), dann förmlicher "
        "(Issue 10, Punkte 9 und 10).",
        [
            "gruezi, wir haben die visitenkarten fuer einen kunden mit falscher telefonnummer "
            "gedruckt, das ist unser fehler",
            "telefonnummer falsch gedruckt, zahlendreher von uns",
            "nein noch nicht, er hat sofort aufgelegt",
            "gross, er hat die karten schon an der messe verteilt",
            "kostenlos neu drucken und rabatt",
            "foermlicher bitte",
        ],
    ),
    Conversation(
        "lieferung-fehlt-nachliefern",
        "Lieferung unvollständig: nachliefern, dann doch mit Rabatt",
        "Drei Kartons fehlen; das Angebot „nachliefern“ wird verstanden, danach kommt der Wunsch, "
        "zusätzlich einen Rabatt in den Entwurf zu schreiben, und eine Nachfrage nach der "
        "Empfehlung (Issue 10, Punkte 7 und 9).",
        [
            "mist, bei der lieferung an die praxis fehlen 3 kartons, das war unser fehler im lager",
            "3 kartons fehlen, lager hat sie vergessen",
            "ja, sie hat sich am telefon ausgelassen",
            "gering",
            "nachliefern",
            "schreib bitte auch rein dass wir 10 prozent rabatt geben",
            "und wenn sie trotzdem unzufrieden ist?",
        ],
    ),
    Conversation(
        "hallo-und-daten",
        "Erster Kontakt: was kannst du, dann Daten löschen",
        "Ein neuer Nutzer fragt, was der Coach kann, tippt unentschlossen „Hm.“ und lässt dann "
        "seine Daten löschen.",
        [
            "hallo",
            "was kannst du eigentlich?",
            "Hm.",
            "meine daten löschen",
            "ja, alles löschen",
        ],
    ),
]


# --------------------------------------------------------------------------- HTTP
class Client:
    """The REST webhook of a running Rasa server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def chat(self, sender: str, text: str) -> List[Reply]:
        body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:  # local http://
            replies = json.loads(resp.read().decode("utf-8"))
        if not isinstance(replies, list):
            raise RuntimeError(f"webhook answered no list: {replies!r}")
        return replies


# --------------------------------------------------------------------------- playing
@dataclass
class Turn:
    """One user message (as shown) and the coach's replies to it."""

    shown: str
    sent: str
    replies: List[Reply]


@dataclass
class Played:
    """A conversation as it happened, and the hints of the mechanical checks."""

    number: int
    conversation: Conversation
    turns: List[Turn] = field(default_factory=list)
    hints: List[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.number:02d}-{self.conversation.slug}.md"


def _button_title(replies: List[Reply], message: str) -> Optional[str]:
    """The title of the button of ``replies`` whose payload is ``message`` (a click)."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            if button.get("payload") == message:
                return str(button.get("title") or message)
    return None


def play(client: Client, number: int, conversation: Conversation) -> Played:
    sender = f"transcript-{number:02d}-{uuid.uuid4().hex[:8]}"
    played = Played(number, conversation)
    for message in conversation.messages:
        # a payload is a click on a button the coach showed – the latest such button
        title = next(
            (t for t in (_button_title(p.replies, message) for p in reversed(played.turns)) if t),
            None,
        )
        shown = f"[{title}]" if title else message
        replies = client.chat(sender, message)
        played.turns.append(Turn(shown, message, replies))
    played.hints = check(played)
    return played


# --------------------------------------------------------------------------- checks
_LETTER_START = re.compile(r"^(Guten Tag|Sehr geehrte|Hallo)\b", re.MULTILINE)
_LETTER_END = "[Ihr Name]"


def _letters(text: str) -> List[str]:
    """The drafted letters in a reply: from the salutation to "[Ihr Name]"."""
    found = []
    for match in _LETTER_START.finditer(text):
        end = text.find(_LETTER_END, match.start())
        if end != -1:
            found.append(text[match.start() : end])
    return found


def _chat_fragments(message: str) -> List[str]:
    """Pieces of a user's message that must not turn up in a letter (4+ words in a row)."""
    words = re.findall(r"\w+|\?\?+", message.lower())
    return [" ".join(words[i : i + 4]) for i in range(0, max(len(words) - 3, 0))]


def check(played: Played) -> List[str]:
    """Mechanical hints: repeated replies, "not understood", chat text in a letter."""
    hints = []
    previous: List[str] = []
    user_texts = [t.sent for t in played.turns if not t.sent.startswith("/")]
    for index, turn in enumerate(played.turns, start=1):
        texts = [r.get("text") or "" for r in turn.replies]
        if not turn.replies:
            hints.append(f"Nachricht {index} ({turn.shown!r}): keine Antwort")
        for text in texts:
            if "nicht ganz verstanden" in text or "nicht eindeutig verstanden" in text:
                hints.append(f"Nachricht {index} ({turn.shown!r}): „nicht verstanden“")
            if len(text) > 80 and text in previous:
                hints.append(
                    f"Nachricht {index} ({turn.shown!r}): Antwort wortgleich wiederholt: "
                    f"{text[:60]!r}…"
                )
            for letter in _letters(text):
                flat = " ".join(re.findall(r"\w+|\?\?+", letter.lower()))
                for user_text in user_texts:
                    for fragment in _chat_fragments(user_text):
                        if fragment in flat:
                            hints.append(
                                f"Nachricht {index} ({turn.shown!r}): Chat-Text im Entwurf: "
                                f"{fragment!r}"
                            )
                            break
        previous = texts
    return hints


# --------------------------------------------------------------------------- Markdown
def _md_text(text: str) -> str:
    """A reply's text as Markdown: line breaks kept, bullets and quotes readable."""
    lines = text.strip("\n").split("\n")
    return "  \n".join(line.rstrip() for line in lines)


def render(played: Played) -> str:
    conv = played.conversation
    out = [f"# {played.number:02d} – {conv.title}", "", conv.description, ""]
    for turn in played.turns:
        out += [f"**Du:** {turn.shown}", ""]
        if not turn.replies:
            out += ["**Coach:** *(keine Antwort)*", ""]
        # one "Coach:" per turn; its further messages follow as paragraphs
        label = "**Coach:** "
        for reply in turn.replies:
            text = reply.get("text") or ""
            buttons = " ".join(f"[{b.get('title')}]" for b in reply.get("buttons") or [])
            if not text and reply.get("image"):
                text = f"![Bild]({reply['image']})"
            if text:
                out += [f"{label}{_md_text(text)}", ""]
                label = ""
            if buttons:
                out += [f"{label}{buttons}", ""]
                label = ""
    return "\n".join(out).rstrip() + "\n"


def render_index(all_played: List[Played]) -> str:
    out = [
        "# Gesprächsprotokolle",
        "",
        "Echte Gespräche mit dem Coach über REST, so wie eine Nutzerin sie erlebt: "
        "Chat-Schreibweise, Tippfehler, Korrekturen, Zwischenfragen. Erzeugt mit "
        "`.venv/bin/python -m devtools.transcripts` (beide Server, neuestes Modell in "
        "`models/`); Daten wie „heute, …“ sind die des Laufs.",
        "",
        "| Nr. | Gespräch | worum es geht |",
        "|---|---|---|",
    ]
    for played in all_played:
        conv = played.conversation
        out.append(
            f"| {played.number:02d} | [{conv.title}]({played.filename}) | {conv.description} |"
        )
    hints = [(p, h) for p in all_played for h in p.hints]
    out += ["", "## Mechanische Hinweise", ""]
    if hints:
        out.append(
            "Automatisch gefunden (wortgleiche Wiederholung, „nicht verstanden“, Chat-Text im "
            "Entwurf) – Hinweise zum Nachlesen, kein Urteil:"
        )
        out.append("")
        out += [f"* {p.filename}: {h}" for p, h in hints]
    else:
        out.append("Keine (wortgleiche Wiederholung, „nicht verstanden“, Chat-Text im Entwurf).")
    return "\n".join(out) + "\n"


def write(all_played: List[Played], out_dir: Path, clean: bool) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    if clean:
        for old in out_dir.glob("[0-9][0-9]-*.md"):
            old.unlink()
    for played in all_played:
        (out_dir / played.filename).write_text(render(played), encoding="utf-8")
    (out_dir / "README.md").write_text(render_index(all_played), encoding="utf-8")


# --------------------------------------------------------------------------- servers
def free_port(preferred: int) -> int:
    """``preferred`` when it is free, else a free port the system picks."""
    if not port_in_use(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_servers(rasa_port: int, action_port: int) -> tuple[ServerPair, Path]:
    model = newest_model(ROOT / "models")
    if model is None:
        raise SystemExit(f"No trained model in {ROOT / 'models'} – run `make train` first.")
    rasa_port, action_port = free_port(rasa_port), free_port(action_port)
    var_dir = Path(tempfile.mkdtemp(prefix="klartext-transcripts-"))
    env = {
        "KLARTEXT_VAR_DIR": str(var_dir),
        "KLARTEXT_DATABASE_URL": f"sqlite:///{var_dir / 'klartext.db'}",
        "KLARTEXT_TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
        "KLARTEXT_TRAINER_CODE": TRAINER_CODE,
        "KLARTEXT_PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
    }
    pair = ServerPair(
        ROOT,
        rasa_port=rasa_port,
        action_port=action_port,
        model=model,
        env=env,
        log_dir=var_dir / "log",
    )
    print(f"starting the servers ({model.name}, ports {pair.rasa_port}/{pair.action_port}) …")
    try:
        pair.start()
    except BaseException:
        shutil.rmtree(var_dir, ignore_errors=True)
        raise
    print(f"… ready after {pair.startup_seconds:.0f} s")
    return pair, var_dir


# --------------------------------------------------------------------------- main
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--rasa-port", type=int, default=16205)
    parser.add_argument("--action-port", type=int, default=16255)
    parser.add_argument("--url", help="use the Rasa server running at this URL (no start)")
    parser.add_argument("--only", help="comma-separated numbers or slugs to play (no index)")
    args = parser.parse_args(argv)

    chosen = list(enumerate(CONVERSATIONS, start=1))
    if args.only:
        wanted = {w.strip() for w in args.only.split(",") if w.strip()}
        chosen = [
            (n, c)
            for n, c in chosen
            if f"{n:02d}" in wanted or str(n) in wanted or c.slug in wanted
        ]
        if not chosen:
            parser.error(f"no conversation matches {args.only!r}")

    pair: Optional[ServerPair] = None
    var_dir: Optional[Path] = None
    try:
        if args.url:
            client = Client(args.url)
        else:
            pair, var_dir = start_servers(args.rasa_port, args.action_port)
            client = Client(pair.base_url)
        all_played = []
        for number, conversation in chosen:
            played = play(client, number, conversation)
            all_played.append(played)
            print(
                f"{played.filename}: {len(played.turns)} Nachrichten, {len(played.hints)} Hinweise"
            )
    finally:
        if pair is not None:
            pair.stop()
        if var_dir is not None:
            shutil.rmtree(var_dir, ignore_errors=True)

    if args.only:  # a partial run writes its transcripts but leaves the index alone
        args.out.mkdir(parents=True, exist_ok=True)
        for played in all_played:
            (args.out / played.filename).write_text(render(played), encoding="utf-8")
    else:
        write(all_played, args.out, clean=True)
    for played in all_played:
        for hint in played.hints:
            print(f"  {played.filename}: {hint}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
