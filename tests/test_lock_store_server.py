"""Redis down, through the whole Rasa server: the message is refused, nothing is lost.

A Rasa server + action server pair (``devtools/servers.py``) runs with its lock store on a
private ``redis-server`` (port 16581, ``KLARTEXT_TEST_LOCK_REDIS_PORT``) that the test stops and
starts again. Ports of the pair: ``KLARTEXT_TEST_LOCK_RASA_PORT`` /
``KLARTEXT_TEST_LOCK_ACTION_PORT``, default four above the ``servers`` ports (15009 / 15059),
so both pairs can run in one session.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import redis
from conftest import ROOT, http_request
from test_lock_store import PrivateRedis

import connectors.texts
from bot import texts
from devtools.servers import ServerPair, newest_model

pytestmark = pytest.mark.integration

REDIS_PORT = int(os.environ.get("KLARTEXT_TEST_LOCK_REDIS_PORT", "16581"))


def _port(name: str, offset_from: str, default: int) -> int:
    explicit = os.environ.get(name)
    if explicit:
        return int(explicit)
    return int(os.environ.get(offset_from, str(default))) + 4


@pytest.fixture(scope="module")
def lock_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(REDIS_PORT, tmp_path_factory.mktemp("lock-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lock_servers(
    tmp_path_factory: pytest.TempPathFactory, lock_redis: PrivateRedis
) -> Iterator[ServerPair]:
    model = newest_model(ROOT / "models")
    if model is None:
        pytest.fail(f"No trained model in {ROOT / 'models'} – run `make train` first.")
    var_dir = tmp_path_factory.mktemp("klartext-var-lock")
    pair = ServerPair(
        ROOT,
        rasa_port=_port("KLARTEXT_TEST_LOCK_RASA_PORT", "KLARTEXT_TEST_RASA_PORT", 15005),
        action_port=_port("KLARTEXT_TEST_LOCK_ACTION_PORT", "KLARTEXT_TEST_ACTION_PORT", 15055),
        model=model,
        env={
            "KLARTEXT_VAR_DIR": str(var_dir),
            "KLARTEXT_DATABASE_URL": f"sqlite:///{var_dir / 'klartext.db'}",
            "KLARTEXT_TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
            "KLARTEXT_LOCK_STORE_URL": lock_redis.url,
            "KLARTEXT_LOCK_STORE_PREFIX": "servertest",
        },
        log_dir=var_dir / "log",
    )
    try:
        pair.start()
    except RuntimeError as exc:
        pytest.fail(f"Could not start the test servers: {exc}", pytrace=False)
    yield pair
    pair.stop()


def send(servers: ServerPair, sender: str, text: str) -> List[Dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    status, raw, _ = http_request(
        "POST",
        f"{servers.base_url}/webhooks/rest/webhook",
        body,
        {"Content-Type": "application/json"},
    )
    assert status == 200, raw[:500]
    return json.loads(raw)


def events(servers: ServerPair, sender: str) -> List[Dict[str, Any]]:
    quoted = urllib.parse.quote(sender, safe="")
    status, raw, _ = http_request("GET", f"{servers.base_url}/conversations/{quoted}/tracker")
    assert status == 200, raw[:500]
    return json.loads(raw)["events"]


def user_texts(stored: List[Dict[str, Any]]) -> List[str]:
    return [e.get("text") for e in stored if e.get("event") == "user"]


def test_while_redis_is_down_a_message_is_refused_and_nothing_is_lost(
    lock_servers: ServerPair, lock_redis: PrivateRedis
) -> None:
    sender = f"lock-{uuid.uuid4().hex[:12]}"
    first = "Ein Kunde beschimpft mich am Telefon"
    assert send(lock_servers, sender, first), "no reply while Redis is up"
    before = events(lock_servers, sender)
    assert user_texts(before) == [first]

    lock_redis.stop()
    try:
        refused = send(lock_servers, sender, "Er hat mich einen Idioten genannt")
        stored_while_down = events(lock_servers, sender)
    finally:
        lock_redis.start()

    # the lock store's own German notice (connectors/guard.py passes on
    # LockStoreUnavailable.user_notice), nothing of the message processed or stored
    notice = texts.text("lock_store", "replies.unavailable")
    notices = {notice, connectors.texts.reply("unexpected_error")}
    assert [reply.get("text") for reply in refused] == [notice], refused
    assert stored_while_down == before

    # Redis is back (empty, without persistence): the same server answers again
    again = "Er hat mich einen Idioten genannt"
    replies = send(lock_servers, sender, again)
    assert replies and all(reply.get("text") not in notices for reply in replies), replies
    after = events(lock_servers, sender)
    assert after[: len(before)] == before
    assert user_texts(after) == [first, again]


def test_the_servers_use_the_private_redis(lock_servers: ServerPair, lock_redis: PrivateRedis):
    """A turn goes through the private Redis: its counter stays, its ticket is released."""
    sender = f"lock-{uuid.uuid4().hex[:12]}"
    send(lock_servers, sender, "Hallo")
    client = redis.Redis.from_url(lock_redis.url)
    assert client.exists(f"servertest:lock:{{{sender}}}:next")
    assert not client.exists(f"servertest:lock:{{{sender}}}:tickets")  # released
