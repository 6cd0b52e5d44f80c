"""Data rights: signed download links, export, erasure and retention.

Erasure covers the coach's data and Rasa's tracker events.
"""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from datetime import date, timedelta

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import data_rights
from bot.config import ROOT
from bot.storage import tracker_events
from bot.storage.repository import CoachRepository
from connectors.export import download_response, install_erase_hook
from connectors.tracker_store import KlartextTrackerStore

DOMAIN_DICT = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RASA_DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, delete_my_data]
slots:
  data_erased:
    type: bool
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet:
  - text: "Hallo!"
""")
KEY = b"test-secret"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("KLARTEXT_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.delenv("KLARTEXT_SECRET", raising=False)
    from actions import common

    common.repository.cache_clear()
    yield tmp_path
    common.repository.cache_clear()


def sender() -> str:
    return f"u-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- tokens
def test_token_names_exactly_one_user():
    a = "slack:U123:with:colons"
    token = data_rights.make_token(a, now=1000, ttl=900, key=KEY)
    assert data_rights.verify_token(token, now=1500, key=KEY) == a


def test_expired_token():
    token = data_rights.make_token("alice", now=1000, ttl=900, key=KEY)
    with pytest.raises(data_rights.TokenExpired):
        data_rights.verify_token(token, now=1901, key=KEY)


def test_forged_tokens_are_refused():
    token = data_rights.make_token("alice", now=1000, ttl=900, key=KEY)
    payload, signature = token.split(".")
    forged_payload = data_rights._b64(f"{1000 + 900}:bob".encode())  # same signature, other user
    longer = data_rights._b64(f"{10**10}:alice".encode())  # extended lifetime
    for forged in [
        f"{forged_payload}.{signature}",
        f"{longer}.{signature}",
        token + "x",
        "garbage",
        "",
        "a.b.c",
        f"{payload}.",
    ]:
        with pytest.raises(data_rights.TokenInvalid):
            data_rights.verify_token(forged, now=1500, key=KEY)
    with pytest.raises(data_rights.TokenInvalid):
        data_rights.verify_token(token, now=1500, key=b"another-secret")


def test_secret_is_created_once_privately(tmp_path, monkeypatch):
    monkeypatch.delenv("KLARTEXT_SECRET", raising=False)
    first = data_rights.secret(tmp_path)
    assert data_rights.secret(tmp_path) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / data_rights.SECRET_FILE).st_mode) == 0o600
    monkeypatch.setenv("KLARTEXT_SECRET", "from-env")
    assert data_rights.secret(tmp_path) == b"from-env"


# --------------------------------------------------------------------------- tracker events
def conversation(sender_id: str, *events: Event) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender_id, RASA_DOMAIN.slots)
    base = [
        ActionExecuted("action_listen"),
        UserUttered(f"Hallo von {sender_id}", intent={"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered("Hallo!"),
        ActionExecuted("action_listen"),
    ]
    for event in base + list(events):
        tracker.update(event, RASA_DOMAIN)
    return tracker


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return request.getfixturevalue("postgres_url")


async def test_tracker_events_per_sender(tracker_url):
    a, b = sender(), sender()
    store = KlartextTrackerStore(domain=RASA_DOMAIN, url=tracker_url)
    # the PostgreSQL test database is shared with earlier runs: count only what this test adds
    old_before = tracker_events.purge_events_before(tracker_url, time.time() - 3600, dry_run=True)
    try:
        await store.save(conversation(a))
        await store.save(conversation(b))
        exported = tracker_events.export_events(tracker_url, a)
        assert [e["event"] for e in exported][:2] == ["action", "user"]
        assert exported[1]["text"] == f"Hallo von {a}"
        assert all(b not in json.dumps(e) for e in exported)
        assert tracker_events.count_events(tracker_url, a) == len(exported) == 5
        assert tracker_events.delete_events(tracker_url, a) == 5
        assert await store.retrieve(a) is None
        assert (await store.retrieve(b)).latest_message.text == f"Hallo von {b}"
        # fresh events are not older than an hour: the retention purge would leave them alone
        assert (
            tracker_events.purge_events_before(tracker_url, time.time() - 3600, dry_run=True)
            == old_before
        )
    finally:
        tracker_events.delete_events(tracker_url, b)
        store.engine.dispose()


def test_missing_events_table_means_no_conversation(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert tracker_events.export_events(url, "x") == []
    assert tracker_events.count_events(url, "x") == 0
    assert tracker_events.delete_events(url, "x") == 0


def test_erase_marker_only_counts_in_the_current_turn():
    marker = SlotSet(tracker_events.ERASE_SLOT, True)
    assert tracker_events.erase_requested([UserUttered("lösch alles"), ActionExecuted("x"), marker])
    assert not tracker_events.erase_requested(
        [marker, UserUttered("hallo"), ActionExecuted("utter_greet")]
    )
    assert tracker_events.erase_requested(
        [{"event": "user"}, {"event": "slot", "name": "data_erased", "value": True}]
    )
    assert not tracker_events.erase_requested(
        [{"event": "slot", "name": "data_erased", "value": False}]
    )


class FakeAgent:
    def __init__(self, store):
        self.tracker_store = store


async def test_the_server_drops_an_erased_conversation_instead_of_saving_it(tmp_path):
    """What Rasa does after action_delete_my_data: save the in-memory tracker – now a delete.

    KlartextTrackerStore does this in its own save(), no hook needed.
    """
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = KlartextTrackerStore(domain=RASA_DOMAIN, url=url)
    a, b = sender(), sender()
    await store.save(conversation(a))
    await store.save(conversation(b))
    tracker = await store.retrieve(a)
    tracker_events.delete_events(url, a)  # the action server deleted the rows …
    tracker.update(
        UserUttered("Ja, alles löschen", intent={"name": "affirm", "confidence": 1.0}), RASA_DOMAIN
    )
    tracker.update(ActionExecuted("action_delete_my_data"), RASA_DOMAIN)
    tracker.update(SlotSet(tracker_events.ERASE_SLOT, True), RASA_DOMAIN)
    await store.save(tracker)  # … and the server would have written everything back
    assert await store.retrieve(a) is None and tracker_events.count_events(url, a) == 0
    assert await store.retrieve(b) is not None
    fresh = conversation(a)  # the next message starts from scratch and is stored normally
    await store.save(fresh)
    assert tracker_events.count_events(url, a) == 5
    store.engine.dispose()


async def test_other_tracker_stores_get_the_erase_hook():
    from rasa.core.tracker_store import InMemoryTrackerStore

    store = InMemoryTrackerStore(RASA_DOMAIN)
    agent = FakeAgent(store)
    assert install_erase_hook(agent) and install_erase_hook(agent)  # idempotent
    a, b = sender(), sender()
    await store.save(conversation(a))
    await store.save(conversation(b))
    tracker = await store.retrieve(a)
    tracker.update(
        UserUttered("Ja, alles löschen", intent={"name": "affirm", "confidence": 1.0}), RASA_DOMAIN
    )
    tracker.update(SlotSet(tracker_events.ERASE_SLOT, True), RASA_DOMAIN)
    await store.save(tracker)
    assert await store.retrieve(a) is None
    assert await store.retrieve(b) is not None


# --------------------------------------------------------------------------- export / erase
def seed(repo: CoachRepository, who: str) -> None:
    repo.set_boundary(who, "insult")
    repo.log_incident(
        who, "Müller GmbH", "insult", date.today() - timedelta(days=1), f"Notiz von {who}"
    )
    repo.save_roleplay(
        who,
        scenario_id="late_payer",
        difficulty=1,
        overall=60.0,
        scores={"clarity": 0.6},
        transcript=[{"speaker": "user", "text": f"Satz von {who}"}],
    )


async def test_export_document_and_erase_for_one_user(env):
    url = os.environ["KLARTEXT_TRACKER_STORE_URL"]
    repo = CoachRepository(os.environ["KLARTEXT_DATABASE_URL"])
    a, b = sender(), sender()
    seed(repo, a)
    seed(repo, b)
    store = KlartextTrackerStore(domain=RASA_DOMAIN, url=url)
    await store.save(conversation(a))
    await store.save(conversation(b))

    document = data_rights.export_document(a)
    assert document["format"] == data_rights.EXPORT_FORMAT and document["sender_id"] == a
    assert [i["note"] for i in document["incidents"]] == [f"Notiz von {a}"]
    assert document["boundaries"][0]["behavior"] == "insult"
    assert document["roleplays"][0]["transcript"][0]["text"] == f"Satz von {a}"
    assert document["clients"][0]["name"] == "Müller GmbH"
    assert len(document["conversation_events"]) == 5
    assert b not in json.dumps(document, ensure_ascii=False)

    assert data_rights.counts(a) == {
        "boundaries": 1,
        "clients": 1,
        "incidents": 1,
        "roleplays": 1,
        "events": 5,
    }
    deleted = data_rights.erase(a)
    assert deleted == {
        "users": 1,
        "clients": 1,
        "roleplays": 1,
        "boundaries": 1,
        "incidents": 1,
        "events": 5,
    }
    empty = data_rights.export_document(a)
    assert empty["user"] is None and empty["conversation_events"] == []
    assert all(empty[k] == [] for k in ("boundaries", "clients", "incidents", "roleplays"))
    assert data_rights.counts(b)["incidents"] == 1 and tracker_events.count_events(url, b) == 5
    store.engine.dispose()


def test_summary_texts():
    assert (
        data_rights.summary({"boundaries": 2, "clients": 1, "incidents": 4, "roleplays": 0})
        == "2 Grenzen, 1 Kunde und 4 Vorfälle"
    )
    assert data_rights.summary({}) == ""


async def test_download_route(env):
    repo = CoachRepository(os.environ["KLARTEXT_DATABASE_URL"])
    a, b = sender(), sender()
    seed(repo, a)
    seed(repo, b)
    ok = await download_response(data_rights.make_token(a))
    assert ok.status == 200 and "attachment" in ok.headers["Content-Disposition"]
    document = json.loads(ok.body)
    assert document["sender_id"] == a and [i["note"] for i in document["incidents"]] == [
        f"Notiz von {a}"
    ]
    assert b not in ok.body.decode("utf-8")
    expired = await download_response(data_rights.make_token(a, now=time.time() - 3600))
    assert expired.status == 410 and "abgelaufen" in expired.body.decode("utf-8")
    forged = await download_response(data_rights.make_token(b, key=b"guessed"))
    assert forged.status == 403 and "ungültig" in forged.body.decode("utf-8")


# --------------------------------------------------------------------------- actions
def make_tracker(who: str, slots=None) -> Tracker:
    all_slots = {name: None for name in DOMAIN_DICT["slots"]}
    all_slots.update(slots or {})
    return Tracker(
        sender_id=who,
        slots=all_slots,
        latest_message={"text": "", "intent": {"name": "x"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def said(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_export_action_sends_a_link_for_this_user_only(env, monkeypatch):
    from actions.data_rights import ActionExportMyData

    monkeypatch.setenv("KLARTEXT_PUBLIC_URL", "https://coach.example/")
    repo = CoachRepository(os.environ["KLARTEXT_DATABASE_URL"])
    a = sender()
    seed(repo, a)
    dispatcher = CollectingDispatcher()
    assert await ActionExportMyData().run(dispatcher, make_tracker(a), DOMAIN_DICT) == []
    text = said(dispatcher)
    link = next(
        word
        for word in text.split()
        if word.startswith("https://coach.example/webhooks/export/download/")
    )
    assert data_rights.verify_token(link.rsplit("/", 1)[1]) == a
    assert "15 Min." in text and "1 Grenze, 1 Kunde, 1 Vorfall und 1 Rollenspiel-Ergebnis" in text


async def test_delete_actions(env):
    from actions.data_rights import (
        ActionAskDeleteConfirm,
        ActionDeleteMyData,
        ValidateDeleteDataForm,
    )

    repo = CoachRepository(os.environ["KLARTEXT_DATABASE_URL"])
    a, b = sender(), sender()
    seed(repo, a)
    seed(repo, b)
    dispatcher = CollectingDispatcher()
    await ActionAskDeleteConfirm().run(dispatcher, make_tracker(a), DOMAIN_DICT)
    assert "wirklich alles löschen" in said(dispatcher) and "1 Vorfall" in said(dispatcher)

    validation = make_tracker(
        a, {"requested_slot": "delete_confirm", "delete_confirm": "Ja, alles löschen"}
    )
    validation.events = [{"event": "slot", "name": "delete_confirm", "value": "Ja, alles löschen"}]
    events = await ValidateDeleteDataForm().run(CollectingDispatcher(), validation, DOMAIN_DICT)
    assert {"event": "slot", "timestamp": None, "name": "delete_confirm", "value": "yes"} in events

    dispatcher = CollectingDispatcher()
    events = await ActionDeleteMyData().run(
        dispatcher, make_tracker(a, {"delete_confirm": "no"}), DOMAIN_DICT
    )
    assert "nichts gelöscht" in said(dispatcher) and repo.counts(a)["incidents"] == 1

    dispatcher = CollectingDispatcher()
    events = await ActionDeleteMyData().run(
        dispatcher, make_tracker(a, {"delete_confirm": "yes"}), DOMAIN_DICT
    )
    assert "Erledigt" in said(
        dispatcher
    ) and "1 Grenze, 1 Kunde, 1 Vorfall und 1 Rollenspiel-Ergebnis" in said(dispatcher)
    assert {"event": "slot", "timestamp": None, "name": "data_erased", "value": True} in events
    assert repo.counts(a) == {"boundaries": 0, "clients": 0, "incidents": 0, "roleplays": 0}
    assert repo.counts(b)["incidents"] == 1


# --------------------------------------------------------------------------- retention
async def test_coach_purge(env, capsys):
    from bot.cli import main

    repo = CoachRepository(os.environ["KLARTEXT_DATABASE_URL"])
    a = sender()
    repo.log_incident(a, "Alt GmbH", "insult", date.today() - timedelta(days=100))
    repo.log_incident(a, "Neu GmbH", "insult", date.today())
    store = KlartextTrackerStore(domain=RASA_DOMAIN, url=os.environ["KLARTEXT_TRACKER_STORE_URL"])
    old = conversation(a)
    for event in old.events:
        event.timestamp = time.time() - 100 * 86400
    await store.save(old)
    store.engine.dispose()

    assert main(["purge", "--days", "30", "--dry-run"]) == 0
    assert "1 Vorfall" in capsys.readouterr().out and len(repo.incidents(a)) == 2
    assert main(["purge", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "1 Vorfall" in out and "5 Gesprächsereignisse" in out
    assert [i.client for i in repo.incidents(a)] == ["Neu GmbH"]
    assert tracker_events.count_events(os.environ["KLARTEXT_TRACKER_STORE_URL"], a) == 0
    assert main(["purge", "--days", "0"]) == 2


async def test_delete_confirmation_reset_is_no_answer(env):
    from actions.data_rights import ValidateDeleteDataForm

    tracker = make_tracker(sender(), {"delete_confirm": None})
    tracker.events = [{"event": "slot", "name": "delete_confirm", "value": None}]
    dispatcher = CollectingDispatcher()
    await ValidateDeleteDataForm().run(dispatcher, tracker, DOMAIN_DICT)
    assert dispatcher.messages == []
