"""Units of the Teams channel: token rules, signing keys, cards, sending, inactive when unset.

No Rasa server needed: the signing keys come from a fake OpenID metadata / JWKS endpoint, the
replies go via aiohttp to the fake Bot Connector (``tests/fakes/botframework.py``).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from fakes.botframework import FakeIdentityProvider, new_key

from bot import config
from connectors import botframework_auth as bfa
from connectors import teams

APP_ID = "app-123"
TENANT = "tenant-abc"
SERVICE = "https://smba.trafficmanager.net/emea/"


class StubKeys:
    def __init__(self, key, endorsements=("msteams",)) -> None:
        self.key = key
        self.endorsements = list(endorsements)

    async def get(self, kid):
        return bfa.SigningKey(self.key.public_key(), self.endorsements) if kid == "k1" else None


def activity(**overrides):
    base = {
        "type": "message",
        "serviceUrl": SERVICE,
        "channelId": "msteams",
        "from": {"id": "29:u"},
        "conversation": {"id": "a:c", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
    }
    base.update(overrides)
    return base


def token(key, **claims):
    import jwt

    now = int(time.time())
    body = {
        "iss": bfa.DEFAULT_ISSUER,
        "aud": APP_ID,
        "serviceUrl": SERVICE,
        "exp": now + 600,
        "nbf": now - 5,
    }
    body.update(claims)
    return "Bearer " + jwt.encode(
        body, key, algorithm="RS256", headers={"kid": claims.pop("kid", "k1")}
    )


async def test_validator_accepts_and_refuses():
    key = new_key()
    validator = bfa.ChannelTokenValidator(APP_ID, StubKeys(key), [bfa.DEFAULT_ISSUER], TENANT)
    claims = await validator.validate(token(key), activity())
    assert claims["aud"] == APP_ID
    cases = [
        (None, activity(), 401),
        ("Basic abc", activity(), 401),
        (token(key, aud="other"), activity(), 401),
        (token(key, iss="https://sts.windows.net/x/"), activity(), 401),
        (token(key, exp=int(time.time()) - 600), activity(), 401),
        (token(new_key()), activity(), 401),
        (token(key, serviceUrl="https://evil.example/"), activity(), 401),
        (token(key), activity(channelId="skype-fake"), 403),
        (
            token(key),
            activity(channelData={"tenant": {"id": "other"}}, conversation={"id": "a:c"}),
            403,
        ),
    ]
    for header, act, status in cases:
        with pytest.raises(bfa.AuthError) as refused:
            await validator.validate(header, act)
        assert refused.value.status == status, (header, refused.value.reason)
    # the clock skew allowance (5 min) accepts a token that just expired
    assert await validator.validate(token(key, exp=int(time.time()) - 60), activity())
    # a multi-tenant bot does not check the tenant
    open_validator = bfa.ChannelTokenValidator(APP_ID, StubKeys(key), [bfa.DEFAULT_ISSUER], "")
    assert await open_validator.validate(
        token(key), activity(channelData={}, conversation={"id": "a:c"})
    )


@pytest.fixture
def identity():
    fake = FakeIdentityProvider(APP_ID, "secret").start()
    yield fake
    fake.stop()


async def test_signing_keys_come_from_the_openid_metadata_and_rotate(identity):
    keys = bfa.OpenIdKeyCache(identity.metadata_url)
    fetching_threads = []
    fetch = keys.client.fetch_data

    def recording_fetch():
        fetching_threads.append(threading.current_thread())
        return fetch()

    keys.client.fetch_data = recording_fetch
    validator = bfa.ChannelTokenValidator(APP_ID, keys, [bfa.DEFAULT_ISSUER], TENANT)
    first = "Bearer " + identity.channel_token(SERVICE)
    assert (await validator.validate(first, activity()))["aud"] == APP_ID
    found = await keys.get(identity.kid)
    assert found is not None and found.endorsements == ["msteams", "emulator"]
    assert identity.key_fetches() == 1  # cached
    assert fetching_threads and threading.main_thread() not in fetching_threads
    # an unknown key id within the cool-down: refused without a fetch
    assert await keys.get("kid-nobody-knows") is None
    assert identity.key_fetches() == 1
    # key rotation: a token signed with a new key id makes the keys be fetched again
    keys.client.cooldown_duration = 0
    identity.key, identity.kid = new_key(), "test-key-2"
    rotated = "Bearer " + identity.channel_token(SERVICE)
    assert (await validator.validate(rotated, activity()))["aud"] == APP_ID
    assert identity.key_fetches() == 2
    with pytest.raises(bfa.AuthError) as refused:  # the old key is no longer published
        await validator.validate(first, activity())
    assert refused.value.status == 401
    keys.close()


async def test_failed_key_refresh_keeps_the_keys_and_is_retried(identity, monkeypatch, caplog):
    monkeypatch.setattr(bfa, "MIN_REFRESH_SECONDS", 0)  # retry a failed refresh at once
    keys = bfa.OpenIdKeyCache(identity.metadata_url)
    assert await keys.get(identity.kid) is not None
    serve = identity.handle
    monkeypatch.setattr(identity, "handle", lambda request: (503, {"error": "unavailable"}))
    keys.client.cooldown_duration = 0
    with caplog.at_level(logging.ERROR, logger=bfa.logger.name):
        assert await keys.get("kid-nobody-knows") is None  # tries a refresh, which fails
        assert "Could not load the Bot Framework signing keys" in caplog.text
        caplog.clear()
        assert await keys.get(identity.kid) is not None  # the keys loaded before stay in use
        assert "Could not load" in caplog.text  # ... while the refresh is retried
    monkeypatch.setattr(identity, "handle", serve)
    before = identity.key_fetches()
    assert await keys.get(identity.kid) is not None
    assert identity.key_fetches() == before + 1
    assert await keys.get(identity.kid) is not None
    assert identity.key_fetches() == before + 1  # refreshed: cached again
    keys.close()


async def test_no_keys_means_refused_not_crashed(identity, monkeypatch):
    keys = bfa.OpenIdKeyCache(identity.metadata_url)
    monkeypatch.setattr(identity, "handle", lambda request: (200, {"issuer": "x"}))  # no jwks_uri
    validator = bfa.ChannelTokenValidator(APP_ID, keys, [bfa.DEFAULT_ISSUER], TENANT)
    with pytest.raises(bfa.AuthError) as refused:
        await validator.validate("Bearer " + identity.channel_token(SERVICE), activity())
    assert refused.value.status == 401 and refused.value.reason == "unknown signing key"
    keys.close()


def test_token_url_for_single_and_multi_tenant():
    assert bfa.token_url_for("t-1") == "https://login.microsoftonline.com/t-1/oauth2/v2.0/token"
    assert (
        bfa.token_url_for("")
        == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )


def test_incoming_text_and_card_actions():
    assert teams.incoming_text({"text": "<at>Klartext</at> Hallo du"}) == "Hallo du"
    assert (
        teams.incoming_text({"text": "/report_abuse", "value": {"payload": "/report_abuse"}})
        == "/report_abuse"
    )
    assert teams.incoming_text({}) == ""
    assert teams.card_action("Ja", "Ja") == {"type": "imBack", "title": "Ja", "value": "Ja"}
    back = teams.card_action("Ja, gern", "/affirm")
    assert (
        back["type"] == "messageBack"
        and back["text"] == "/affirm"
        and back["displayText"] == "Ja, gern"
    )


async def test_output_sends_long_text_and_card_to_the_connector(channel_fakes):
    sessions = bfa.SessionProvider()
    identity, connector = channel_fakes.identity, channel_fakes.connector
    tokens = bfa.ConnectorTokenClient(
        identity.token_url, identity.app_id, identity.app_password, sessions
    )
    conversation = f"a:unit-{time.time()}"
    incoming = {
        "id": "act-1",
        "conversation": {"id": conversation},
        "from": {"id": "29:u"},
        "recipient": {"id": "28:bot"},
    }
    output = teams.TeamsOutput(tokens, sessions, connector.url, incoming)
    long = ("Ein langer Absatz mit *Betonung*. " * 300).strip()
    await output.send_text_with_buttons("29:u", long, [{"title": "Weiter", "payload": "/affirm"}])
    await sessions.close()
    sent = connector.activities(conversation)
    assert len(sent) == 3 and all(a["_path"].endswith("/activities/act-1") for a in sent)
    assert all(len(a.get("text", "")) <= teams.TEXT_LIMIT for a in sent)
    card = sent[-1]["attachments"][0]
    assert (
        card["contentType"] == teams.HERO_CARD
        and card["content"]["buttons"][0]["text"] == "/affirm"
    )
    assert "*" not in sent[0]["text"]
    assert len([t for t in identity.issued_tokens]) >= 1


def test_inactive_without_secrets(monkeypatch):
    from connectors.socketio_channel import blueprint_routes

    monkeypatch.setattr(config, "_dotenv_loaded", True)
    for name in list(__import__("os").environ):
        if name.startswith("KLARTEXT_TEAMS_"):
            monkeypatch.delenv(name)

    async def on_message(_):  # pragma: no cover - not called
        return None

    channel = teams.KlartextTeamsInput.from_credentials(None)
    assert not channel.active and blueprint_routes(channel.blueprint(on_message)) == []
    assert channel.tokens.token_url == bfa.token_url_for("")
    monkeypatch.setenv("KLARTEXT_TEAMS_APP_ID", "a")
    monkeypatch.setenv("KLARTEXT_TEAMS_APP_PASSWORD", "p")
    monkeypatch.setenv("KLARTEXT_TEAMS_TENANT_ID", "t-9")
    active = teams.KlartextTeamsInput.from_credentials(None)
    assert active.active and active.tokens.token_url == bfa.token_url_for("t-9")
    assert "/webhook" in blueprint_routes(active.blueprint(on_message))
