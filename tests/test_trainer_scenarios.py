"""Scenarios a trainer writes: checking, versions, who sees what, the dashboard API, the CLI.

Fast tests on SQLite. The API is tested on the functions behind the routes of
``connectors/dashboard.py`` (with a stand-in request); the same routes over HTTP and the
page in a browser are in ``test_scenarios_dashboard_browser.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from trackers import DOMAIN, make_tracker, texts

from actions import groups as group_actions
from actions import roleplay as rp
from bot import groups
from bot.cli import main as coach
from bot.roleplay import library
from bot.roleplay.scenarios import (
    DEFAULT_SCENARIO_DIR,
    MAX_SCENARIO_BYTES,
    parse_text,
    validate_file,
    validate_text,
)
from bot.storage.groups import GroupRepository
from bot.storage.scenarios import ScenarioRepository, ScenarioTaken
from connectors import dashboard

SHIPPED = DEFAULT_SCENARIO_DIR / "late_payer.yml"
OPENING = "Guten Tag! Ich habe gleich noch drei Aufträge für Sie, alles ganz dringend."


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def own_yaml(slug: str, opening: str = OPENING, **changes) -> str:
    """A valid scenario: the shipped late payer under another id and with its own opener."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["id"] = slug
    data["title"] = f"Titel {slug}"
    data["phases"]["opening"]["neutral"] = [opening]
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    monkeypatch.setenv("KLARTEXT_DATABASE_URL", url)
    monkeypatch.setenv("KLARTEXT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("KLARTEXT_PUBLIC_URL", "https://coach.example.org/")
    monkeypatch.delenv("KLARTEXT_SECRET", raising=False)
    from actions import common

    common.repository.cache_clear()
    yield url
    common.repository.cache_clear()


@pytest.fixture
def trainers(url, monkeypatch):
    """Two trainers by configuration."""
    a, b = uid("trainer-a"), uid("trainer-b")
    monkeypatch.setenv("KLARTEXT_TRAINERS", f"{a},{b}")
    return a, b


# --------------------------------------------------------------------------- validation
def test_a_text_is_checked_with_the_messages_of_coach_scenarios_check(tmp_path):
    broken = SHIPPED.read_text(encoding="utf-8").replace("  name: Sabine Krüger\n", "")
    broken = broken.replace("id: late_payer", "id: Late Payer!")
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    from_file = [(e.field, e.problem, e.line) for e in validate_file(path)]
    from_text = [(e.field, e.problem, e.line) for e in validate_text("Formular", broken)]
    assert from_text == from_file
    assert ("persona.name", "Pflichtfeld fehlt", None) in [(f, p, None) for f, p, _ in from_text]
    assert any(f == "id" and "keine gültige Kennung" in p for f, p, _ in from_text)
    assert str(validate_text("Formular", broken)[0]).startswith("Formular, Zeile ")


def test_size_malformed_and_hostile_yaml_get_clear_messages():
    big = validate_text("x", "a" * (MAX_SCENARIO_BYTES + 1))
    assert "zu groß" in big[0].problem and str(MAX_SCENARIO_BYTES) in big[0].problem
    broken = validate_text("x", "id: [kaputt\n")
    assert broken[0].problem.startswith("YAML-Syntaxfehler in Zeile")
    deep = validate_text("x", "[" * 5000)
    assert "zu tief verschachtelt" in deep[0].problem
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    started = time.monotonic()
    assert validate_text("x", bomb)  # errors, quickly: aliases are not walked again
    assert time.monotonic() - started < 2
    assert library.check_text(None, 42).errors[0].problem  # no text at all


def test_check_refuses_a_shipped_id_and_another_trainers_id(trainers, url):
    a, b = trainers
    shipped = library.check_text(a, SHIPPED.read_text(encoding="utf-8"))
    assert not shipped.ok and "mitgeliefertes Szenario" in shipped.errors[0].problem
    assert library.save(a, own_yaml("kunde_x")).stored is not None
    taken = library.save(b, own_yaml("kunde_x", "Hallo, schön Sie zu sehen!"))
    assert taken.stored is None and "anderen Trainerin" in taken.checked.errors[0].problem
    assert ScenarioRepository(url).find("kunde_x", all_versions=True).owner == a
    with pytest.raises(ScenarioTaken):
        ScenarioRepository(url).save_version(b, "kunde_x", own_yaml("kunde_x"))


# --------------------------------------------------------------------------- the form
def test_the_form_round_trips_every_shipped_scenario():
    for path in sorted(DEFAULT_SCENARIO_DIR.glob("*.yml")):
        original = yaml.safe_load(path.read_text(encoding="utf-8"))
        form = library.text_to_form(path.read_text(encoding="utf-8"))
        assert yaml.safe_load(library.form_to_yaml(form)) == original, path.name


def test_an_empty_form_field_is_named_like_the_checker_names_it():
    form = library.text_to_form(own_yaml("kunde_form"))
    form["persona"]["name"] = "   "
    form["lines"]["closing.accept"] = "\n \n"
    errors = validate_text("Formular", library.form_to_yaml(form))
    assert [(e.field, e.problem) for e in errors] == [
        ("persona.name", "Pflichtfeld fehlt"),
        ("phases.closing.accept", "Zeilen fehlen (Reaktion nicht angegeben)"),
    ]
    form["lines"]["opening.neutral"] = "Na du, was gibt's?"
    errors = validate_text("Formular", library.form_to_yaml(form))
    assert ("phases.opening.neutral[0]", "Kundenzeile duzt – der Kunde spricht mit „Sie“") in [
        (e.field, e.problem) for e in errors
    ]


# --------------------------------------------------------------------------- versions
def test_every_save_is_a_new_version_and_nothing_old_is_lost(trainers, url):
    a, _ = trainers
    first = library.save(a, own_yaml("kunde_v")).stored
    second = library.save(a, own_yaml("kunde_v", "Zweite Fassung, guten Tag."), publish=True)
    assert (first.newest.number, second.stored.newest.number) == (1, 2)
    assert second.stored.published
    broken = library.save(a, own_yaml("kunde_v", "Na du?"))  # duzt: refused, nothing stored
    assert broken.stored is None
    stored = ScenarioRepository(url).find("kunde_v", all_versions=True)
    assert [v.number for v in stored.versions] == [2, 1]
    assert OPENING in stored.versions[1].yaml_text and stored.versions[0].author == a
    assert library.visible(a, url=url)["kunde_v"].lines("opening", "neutral") == (
        "Zweite Fassung, guten Tag.",
    )


def test_the_newest_valid_version_is_played(trainers, url):
    a, _ = trainers
    library.save(a, own_yaml("kunde_alt"))
    # a version the rules no longer accept (stored before a rule changed): the older one plays
    ScenarioRepository(url).save_version(a, "kunde_alt", own_yaml("kunde_alt", "Na du?"))
    played = library.visible(a, url=url)["kunde_alt"]
    assert played.lines("opening", "neutral") == (OPENING,)
    stored = ScenarioRepository(url).find("kunde_alt", all_versions=True)
    assert library.used_version(stored) == 1


# --------------------------------------------------------------------------- who sees what
def test_own_published_and_group_scenarios_are_visible_to_the_right_people(trainers, url):
    a, b = trainers
    library.save(a, own_yaml("kunde_privat"))
    library.save(b, own_yaml("kunde_offen", "Tag auch. Was gibt es?"), publish=True)
    trainee, stranger = uid("trainee"), uid("stranger")
    assert "kunde_privat" in library.visible(a, url=url)
    assert "kunde_privat" not in library.visible(b, url=url)
    assert "kunde_offen" in library.visible(stranger, url=url)
    assert "late_payer" in library.visible(stranger, url=url)

    session = library.open_group_session(a, "kunde_privat", 2, url=url)
    assert library.open_group_session(b, "kunde_privat", 2, url=url) is None
    # the slot rp_group alone opens nothing: only a real membership
    assert library.resolve(trainee, "kunde_privat", session.code, url=url) is None
    GroupRepository(url).join(trainee, session.code)
    assert library.resolve(trainee, "kunde_privat", session.code, url=url) is not None
    assert "kunde_privat" in library.catalog(trainee, session.code, url=url)
    assert "kunde_privat" not in library.catalog(trainee, None, url=url)
    assert "kunde_privat" not in library.catalog(stranger, session.code, url=url)


def test_a_shipped_role_play_needs_no_database(monkeypatch):
    def broken(*args, **kwargs):
        raise AssertionError("database touched")

    monkeypatch.setattr(library, "ScenarioRepository", broken)
    found = library.catalog("anyone", "K7P2QX", "late_payer")
    assert "late_payer" in found


def test_the_preview_plays_the_scenario_with_the_engine(trainers):
    scenario, errors = parse_text("x", own_yaml("kunde_preview"))
    assert not errors
    shown = library.preview(scenario, 2)
    assert OPENING in shown.opening and shown.briefing
    assert len(shown.turns) == 3 and all(turn.replies for turn in shown.turns)


# --------------------------------------------------------------------------- the role-play actions
def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_trainee_who_joined_plays_the_trainers_scenario(trainers, url):
    a, _ = trainers
    library.save(a, own_yaml("kunde_gruppe"))
    session = library.open_group_session(a, "kunde_gruppe", 1, url=url)
    trainee = uid("trainee")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("join_session", f"Beitreten {session.code}", sender=trainee)
    events = slot_events(await group_actions.ActionJoinSession().run(dispatcher, tracker, DOMAIN))
    assert events["rp_scenario"] == "kunde_gruppe"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=events, sender=trainee)
    started = slot_events(await rp.ActionRoleplayStart().run(dispatcher, tracker, DOMAIN))
    assert OPENING in texts(dispatcher)
    state = started["rp_state"]

    # a turn, with the scenario looked up per request
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "affirm",
        "Ich beende unsere Zusammenarbeit zum Monatsende.",
        slots={"rp_state": state, "roleplay_active": True, "rp_group": session.code},
        active_loop="roleplay_form",
        sender=trainee,
    )
    tracker.slots["requested_slot"] = "rp_utterance"
    line = "Ich beende unsere Zusammenarbeit zum Monatsende."
    tracker.events.append({"event": "slot", "name": "rp_utterance", "value": line})
    await rp.ValidateRoleplayForm().run(dispatcher, tracker, DOMAIN)
    assert any("Sabine Krüger:" in (m.get("text") or "") for m in dispatcher.messages)

    # someone else with a forged state gets no line of the unpublished scenario
    dispatcher = CollectingDispatcher()
    forged = make_tracker(slots={"rp_scenario": "kunde_gruppe"}, sender=uid("stranger"))
    await rp.ActionRoleplayStart().run(dispatcher, forged, DOMAIN)
    assert OPENING not in texts(dispatcher)


async def test_the_trainer_can_choose_an_own_scenario_in_chat(trainers, url):
    a, b = trainers
    library.save(a, own_yaml("kunde_chat"))
    dispatcher = CollectingDispatcher()
    await rp.ActionAskRpScenario().run(dispatcher, make_tracker(sender=a), DOMAIN)
    assert "kunde_chat" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    dispatcher = CollectingDispatcher()
    await rp.ActionAskRpScenario().run(dispatcher, make_tracker(sender=b), DOMAIN)
    assert "kunde_chat" not in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    # a forged slot does not open a session with another trainer's scenario
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"rp_scenario": "kunde_chat", "rp_difficulty": "2"}, sender=b)
    await group_actions.ActionTrainerSessionCreated().run(dispatcher, tracker, DOMAIN)
    assert GroupRepository(url).sessions_of(b) == []


# --------------------------------------------------------------------------- the dashboard API
class FakeRequest:
    """What the API reads of a Sanic request: headers (case-insensitive) and the body."""

    def __init__(self, token: str = "", body: bytes = b"", content_type="application/json"):
        self._headers = {"x-klartext-token": token, "content-type": content_type}
        if body:
            self._headers["content-length"] = str(len(body))
        self.headers = self
        self.body = body

    def get(self, name: str, default=None):
        return self._headers.get(name.lower(), default)


def call(work, token, *args, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    request = FakeRequest(token, data, content_type)
    answer = asyncio.run(
        dashboard.api_response(request, work, *args, body=body is not None or raw is not None)
    )
    return answer.status, json.loads(answer.body)


def token_for(trainer: str, url: str, **kwargs) -> str:
    session = GroupRepository(url).open_session(trainer, "late_payer", 2)
    return groups.make_dashboard_token(trainer, session.code, **kwargs)


def test_the_api_answers_only_a_valid_trainer_token(trainers, url):
    a, _ = trainers
    good = token_for(a, url)
    assert call(dashboard.scenario_list, good)[0] == 200
    payload, signature = good.split(".")
    expired = token_for(a, url, now=time.time() - 60, ttl=10)
    nobody = token_for(uid("no-trainer"), url)
    for bad, status in [
        ("", 403),
        (good + "x", 403),
        (f"{groups._b64(f'9999999999:K7P2QX:{a}x'.encode())}.{signature}", 403),
        (expired, 410),
        (nobody, 403),  # signed, but not a trainer (any more)
    ]:
        got, data = call(dashboard.scenario_save, bad, body={"yaml": own_yaml("kunde_nie")})
        assert got == status and data["gone"] and data["error"], bad
    assert ScenarioRepository(url).find("kunde_nie") is None


def test_the_api_checks_saves_and_starts_a_session(trainers, url):
    a, b = trainers
    token = token_for(a, url)
    form = library.text_to_form(own_yaml("kunde_api"))
    form["persona"]["name"] = ""
    status, data = call(dashboard.scenario_check, token, body={"form": form})
    assert status == 422 and "nichts wurde gespeichert" in data["error"]
    assert data["errors"][0]["field"] == "persona.name"
    assert data["errors"][0]["problem"] == "Pflichtfeld fehlt"
    status, data = call(dashboard.scenario_save, token, body={"form": form, "publish": False})
    assert status == 422 and ScenarioRepository(url).find("kunde_api") is None

    form["persona"]["name"] = "Sabine Krüger"
    status, data = call(dashboard.scenario_check, token, body={"form": form, "difficulty": 1})
    assert status == 200 and OPENING in data["preview"]["opening"]
    status, data = call(dashboard.scenario_save, token, body={"form": form, "publish": False})
    assert status == 200 and data["version"] == 1 and not data["published"]
    status, data = call(dashboard.scenario_save, token, body={"yaml": own_yaml("kunde_api")})
    assert status == 200 and data["version"] == 2

    status, listed = call(dashboard.scenario_list, token)
    assert [s["id"] for s in listed["own"]] == ["kunde_api"]
    assert listed["own"][0]["version"] == 2 and listed["texts"]["heading"]
    status, detail = call(dashboard.scenario_detail, token, "kunde_api")
    assert [v["number"] for v in detail["versions"]] == [2, 1] and detail["form"]["id"]

    status, template = call(dashboard.scenario_detail, token, "late_payer")  # a shipped one
    assert status == 200 and not template["own"] and template["form"]["id"] == "late_payer"

    status, opened = call(dashboard.scenario_session, token, "kunde_api", body={"difficulty": 3})
    assert status == 200 and opened["code"] in opened["message"]
    assert GroupRepository(url).find_session(opened["code"]).scenario_id == "kunde_api"

    other = token_for(b, url)  # another trainer: neither sees nor uses it
    assert call(dashboard.scenario_detail, other, "kunde_api")[0] == 404
    assert call(dashboard.scenario_session, other, "kunde_api", body={})[0] == 404
    assert call(dashboard.scenario_list, other)[1]["own"] == []


def test_bad_bodies_are_refused_and_nothing_is_stored(trainers, url):
    a, _ = trainers
    token = token_for(a, url)
    huge = {"yaml": own_yaml("kunde_gross") + "#" * dashboard.MAX_BODY_BYTES}
    status, data = call(dashboard.scenario_save, token, body=huge)
    assert status == 413 and "zu groß" in data["error"]
    big_yaml = {"yaml": own_yaml("kunde_gross") + "#" * MAX_SCENARIO_BYTES}
    status, data = call(dashboard.scenario_save, token, body=big_yaml)
    assert status == 422 and "zu groß" in data["errors"][0]["problem"]
    assert call(dashboard.scenario_save, token, raw=b"{kaputt")[0] == 400
    assert call(dashboard.scenario_save, token, raw=b"[1, 2]")[0] == 400
    assert call(dashboard.scenario_save, token, body={"nothing": 1})[0] == 400
    assert call(dashboard.scenario_save, token, body={"yaml": "id: [x"})[0] == 422
    form_post = call(
        dashboard.scenario_save,
        token,
        raw=b"yaml=id%3A+x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form_post[0] == 415  # a plain HTML form of another site cannot post here
    bad_level = {"yaml": own_yaml("kunde_gross"), "difficulty": 7}
    assert call(dashboard.scenario_check, token, body=bad_level)[0] == 400
    assert ScenarioRepository(url).find("kunde_gross") is None


def test_the_scenario_page_is_served_for_a_trainer_link_only(trainers, url):
    a, _ = trainers
    page = asyncio.run(dashboard.scenario_page_response(token_for(a, url)))
    assert page.status == 200 and b'id="scenarios"' in page.body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    refused = asyncio.run(dashboard.scenario_page_response("garbage"))
    assert refused.status == 403 and b'id="scenarios"' not in refused.body
    assert dashboard.asset_response("scenarios.js").status == 200


# --------------------------------------------------------------------------- the CLI
def test_coach_scenarios_import_and_list(trainers, url, tmp_path, capsys):
    a, b = trainers
    path = tmp_path / "kunde_cli.yml"
    path.write_text(own_yaml("kunde_cli"), encoding="utf-8")
    assert coach(["scenarios", "import", str(path), "--trainer", a]) == 0
    assert coach(["scenarios", "import", str(path), "--trainer", a, "--publish"]) == 0
    assert "Version 2 (veröffentlicht)" in capsys.readouterr().out
    assert coach(["scenarios", "import", str(path), "--trainer", b]) == 1
    assert "anderen Trainerin" in capsys.readouterr().err
    assert coach(["scenarios", "import", str(SHIPPED), "--trainer", b]) == 1
    assert coach(["scenarios", "import", str(tmp_path / "fehlt.yml"), "--trainer", b]) == 1
    assert "nichts gespeichert" not in capsys.readouterr().out
    assert coach(["scenarios", "list", "--trainer", a]) == 0
    listed = capsys.readouterr().out
    assert "kunde_cli (veröffentlicht): Version 1, 2" in listed
    assert "Version 2 vom" in listed and "wird gespielt" in listed
    assert coach(["scenarios", "list", "--trainer", b]) == 0
    assert "noch keine eigenen Szenarien" in capsys.readouterr().out


def test_coach_scenarios_check_is_unchanged(capsys):
    assert coach(["scenarios", "check"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
    assert Path(DEFAULT_SCENARIO_DIR).is_dir()


def test_a_trainers_scenarios_go_with_their_data(trainers, url):
    a, _ = trainers
    library.save(a, own_yaml("kunde_weg"))
    ScenarioRepository(url).delete_user(a)  # "delete my data": the database cascades
    assert ScenarioRepository(url).find("kunde_weg") is None
    assert "kunde_weg" not in library.visible(a, url=url)


def test_versions_and_visibility_on_postgresql(postgres_url):
    a, b = uid("pg-trainer-a"), uid("pg-trainer-b")
    slug = f"pg_{uuid.uuid4().hex[:10]}"
    assert library.save(a, own_yaml(slug), url=postgres_url).stored.newest.number == 1
    second = library.save(a, own_yaml(slug, "Zweite Fassung, guten Tag."), url=postgres_url)
    assert second.stored.newest.number == 2 and not second.stored.published
    taken = library.save(b, own_yaml(slug), url=postgres_url)
    assert taken.stored is None and "anderen Trainerin" in taken.checked.errors[0].problem
    assert slug in library.visible(a, url=postgres_url)
    assert slug not in library.visible(b, url=postgres_url)
    ScenarioRepository(postgres_url).set_published(a, slug, True)
    assert slug in library.visible(b, url=postgres_url)
    stored = ScenarioRepository(postgres_url).find(slug, all_versions=True)
    assert [v.number for v in stored.versions] == [2, 1]
