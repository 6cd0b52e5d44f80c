"""Conversation locks whose tickets are issued and released atomically in Redis.

``endpoints.yml``::

    lock_store:
      type: connectors.lock_store.KlartextLockStore

Rasa processes the messages of one conversation one at a time: every message takes a
*ticket* of the conversation's lock and waits until its ticket is the first one. Rasa's
``RedisLockStore`` keeps the whole lock as one JSON value and changes it with a separate GET
and SET – two replicas that issue a ticket at the same moment both read the same lock, both
hand out the same number and both process at once (``docs/locks.md`` measures it).

:class:`RedisTicketLockStore` keeps per conversation

* ``<prefix>:lock:{<id>}:next`` – the ticket counter (``INCR``), and
* ``<prefix>:lock:{<id>}:tickets`` – a sorted set: member = ticket number, score = expiry
  (milliseconds, Redis server time, so the replicas' clocks do not matter),

and changes them only in Lua scripts, which Redis runs atomically: issuing a ticket (drop
expired tickets, ``INCR``, add), and *touching* one (drop expired tickets, renew this one,
answer whether it is the lowest – i.e. its turn). Releasing is one ``ZREM``. So ticket
numbers follow arrival order across all replicas and a conversation's messages are processed
one at a time in that order. A waiting message renews its ticket on every poll, the message
being processed renews it every third of the lifetime: a ticket only expires when its replica
crashed or hangs, and then the conversation is blocked for at most one lifetime
(``lock_lifetime``, Rasa's ``TICKET_LOCK_LIFETIME``, default 60 s). Both keys of a
conversation carry that lifetime as Redis expiry, so nothing is left behind.

Redis down: a message that cannot get its ticket or its turn is refused with
:class:`LockStoreUnavailable` (a ``LockError``) before anything of it is processed or stored;
it carries a German notice for the user (``connectors/lock_store.yml``). As soon as Redis is
back the next message works – the client reconnects by itself, no restart is needed.

:class:`KlartextLockStore` is what ``endpoints.yml`` names: with ``KLARTEXT_LOCK_STORE_URL``
set (or ``url:`` in ``endpoints.yml``) it creates a :class:`RedisTicketLockStore`, without it
Rasa's in-process ``InMemoryLockStore`` – the zero-configuration default of ``make run``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional, Text
from urllib.parse import urlsplit

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import NoBackoff
from redis.retry import Retry

import connectors.texts  # noqa: F401  (registers the "lock_store" text source)
from bot import texts
from bot.config import load_settings

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.05  # seconds between two looks of a waiting message
DEFAULT_SOCKET_TIMEOUT = 2.0  # seconds a Redis command may take before Redis counts as down
HEARTBEAT_FRACTION = 3  # the message being processed renews its ticket lifetime/3 apart

# Shared Lua helpers: Redis server time in ms, extending a key's expiry, the lowest ticket.
_LUA_PRELUDE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function keep_alive(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local function drop_expired(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
end
local function lowest_ticket(key)
  local lowest = nil
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local number = tonumber(member)
    if lowest == nil or number < lowest then lowest = number end
  end
  return lowest
end
"""

# KEYS: counter, tickets; ARGV: lifetime in ms → the new ticket number.
ISSUE_SCRIPT = (
    _LUA_PRELUDE
    + """
local now, lifetime = now_ms(), tonumber(ARGV[1])
drop_expired(KEYS[2], now)
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], now + lifetime, ticket)
keep_alive(KEYS[1], lifetime)
keep_alive(KEYS[2], lifetime)
return ticket
"""
)

# KEYS: counter, tickets; ARGV: ticket, lifetime in ms → 1 its turn, 0 wait, -1 expired.
TOUCH_SCRIPT = (
    _LUA_PRELUDE
    + """
local now, lifetime = now_ms(), tonumber(ARGV[2])
drop_expired(KEYS[2], now)
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[2], 'XX', now + lifetime, ARGV[1])
keep_alive(KEYS[1], lifetime)
keep_alive(KEYS[2], lifetime)
if lowest_ticket(KEYS[2]) == tonumber(ARGV[1]) then return 1 end
return 0
"""
)

YOUR_TURN, WAIT, EXPIRED = 1, 0, -1


class LockStoreUnavailable(LockError):
    """Redis cannot be reached: the message is refused before anything of it is processed.

    Attributes:
        user_notice: The German notice for the user (``connectors/lock_store.yml``).
    """

    def __init__(self, conversation_id: Text, error: redis.RedisError) -> None:
        super().__init__(
            f"Lock store (Redis) not reachable for conversation '{conversation_id}': {error}"
        )
        self.user_notice = texts.text("lock_store", "replies.unavailable")


class RedisTicketLockStore(LockStore):
    """Ticket locks in Redis, issued and renewed by atomic Lua scripts (see module doc)."""

    def __init__(
        self,
        url: Text,
        key_prefix: Text = "klartext",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        """Connect lazily to the Redis of ``url`` (``redis://host:port/db``).

        Args:
            url: Redis URL; an unreachable Redis is no error here, only for messages.
            key_prefix: First part of every key (several bots can share one Redis).
            poll_interval: Seconds between two looks of a waiting message.
            socket_timeout: Seconds a Redis command may take before Redis counts as down.
        """
        self.red = redis.Redis.from_url(
            url,
            socket_timeout=float(socket_timeout),
            socket_connect_timeout=float(socket_timeout),
            # one immediate retry: the first command after a Redis restart finds a dead
            # pooled connection; the retry reconnects
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[redis.ConnectionError],
        )
        self.key_prefix = f"{key_prefix}:lock:"
        self.poll_interval = float(poll_interval)
        self._issue = self.red.register_script(ISSUE_SCRIPT)
        self._touch = self.red.register_script(TOUCH_SCRIPT)
        super().__init__()

    # ------------------------------------------------------------------ keys
    def counter_key(self, conversation_id: Text) -> str:
        """The key of the conversation's ticket counter."""
        return f"{self.key_prefix}{{{conversation_id}}}:next"

    def tickets_key(self, conversation_id: Text) -> str:
        """The key of the conversation's sorted set of live tickets."""
        return f"{self.key_prefix}{{{conversation_id}}}:tickets"

    def _keys(self, conversation_id: Text) -> list[str]:
        return [self.counter_key(conversation_id), self.tickets_key(conversation_id)]

    # ------------------------------------------------------------------ atomic operations
    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket of ``conversation_id`` (one atomic script).

        Raises:
            LockStoreUnavailable: Redis cannot be reached.
        """
        try:
            return int(
                self._issue(keys=self._keys(conversation_id), args=[_milliseconds(lock_lifetime)])
            )
        except redis.RedisError as error:
            raise LockStoreUnavailable(conversation_id, error) from error

    def touch(self, conversation_id: Text, ticket: int, lock_lifetime: float) -> int:
        """Renew ``ticket``; :data:`YOUR_TURN`, :data:`WAIT` or :data:`EXPIRED`.

        Raises:
            redis.RedisError: Redis cannot be reached.
        """
        return int(
            self._touch(
                keys=self._keys(conversation_id), args=[ticket, _milliseconds(lock_lifetime)]
            )
        )

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket (one ``ZREM``; an emptied set disappears by itself)."""
        self.red.zrem(self.tickets_key(conversation_id), ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Release the ticket; the counter stays (with its expiry) so numbers keep rising.

        Unlike the stock clean-up (read, then delete the lock when nobody waits), nothing is
        deleted on a read: a ticket issued in between would be lost.
        """
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: Text) -> None:
        """Nothing to do: every script drops expired tickets atomically itself."""

    # ------------------------------------------------------------------ Rasa's lock
    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock: take a ticket, wait for the turn, release.

        Polls every ``poll_interval`` seconds (at most ``wait_time_in_seconds``).

        Raises:
            LockStoreUnavailable: Redis cannot be reached (nothing was processed).
            LockError: The ticket expired while waiting (the process hung for a lifetime).
        """
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            interval = min(self.poll_interval, wait_time_in_seconds)
            held = await self._wait_for_turn(conversation_id, ticket, lock_lifetime, interval)
            async with self._heartbeat(conversation_id, ticket, lock_lifetime):
                yield held
        finally:
            self._release(conversation_id, ticket)

    async def _wait_for_turn(
        self, conversation_id: Text, ticket: int, lock_lifetime: float, interval: float
    ) -> TicketLock:
        while True:
            try:
                state = self.touch(conversation_id, ticket, lock_lifetime)
            except redis.RedisError as error:
                raise LockStoreUnavailable(conversation_id, error) from error
            if state == YOUR_TURN:
                logger.debug("Ticket %s of conversation '%s' is served", ticket, conversation_id)
                return _held_lock(conversation_id, ticket, lock_lifetime)
            if state == EXPIRED:
                raise LockError(
                    f"Ticket {ticket} of conversation '{conversation_id}' expired while waiting."
                )
            await asyncio.sleep(interval)

    @asynccontextmanager
    async def _heartbeat(
        self, conversation_id: Text, ticket: int, lock_lifetime: float
    ) -> AsyncIterator[None]:
        """Renew the held ticket in the background so a long turn keeps its lock."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(lock_lifetime / HEARTBEAT_FRACTION)
                try:
                    state = self.touch(conversation_id, ticket, lock_lifetime)
                except redis.RedisError as error:
                    logger.warning("Could not renew the lock of '%s': %s", conversation_id, error)
                    continue
                if state != YOUR_TURN:
                    logger.error(
                        "The lock of conversation '%s' expired during its turn", conversation_id
                    )
                    return

        task = asyncio.ensure_future(renew())
        try:
            yield
        finally:
            task.cancel()

    def _release(self, conversation_id: Text, ticket: int) -> None:
        try:
            self.cleanup(conversation_id, ticket)
        except redis.RedisError as error:
            logger.error(
                "Could not release ticket %s of '%s' (it expires by itself): %s",
                ticket,
                conversation_id,
                error,
            )

    # ------------------------------------------------------------------ inspection
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """The conversation's live tickets as a ``TicketLock`` (``None`` without tickets)."""
        entries = self.red.zrange(self.tickets_key(conversation_id), 0, -1, withscores=True)
        if not entries:
            return None
        tickets = sorted(
            (Ticket(int(member), score / 1000.0) for member, score in entries),
            key=lambda t: t.number,
        )
        return TicketLock(conversation_id, deque(tickets))

    def delete_lock(self, conversation_id: Text) -> None:
        """Delete the conversation's counter and tickets."""
        deleted = self.red.delete(*self._keys(conversation_id))
        self._log_deletion(conversation_id, deletion_successful=bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        """Not supported: writing a whole lock back is the race this store avoids."""
        raise NotImplementedError(
            "RedisTicketLockStore changes tickets only atomically (issue_ticket, lock)."
        )


class KlartextLockStore(LockStore):
    """The lock store ``endpoints.yml`` names: Redis when configured, else in-process.

    Rasa creates a custom lock store as ``cls(endpoint_config=…)``; this class answers with
    a :class:`RedisTicketLockStore` when ``url:`` in ``endpoints.yml`` or
    ``KLARTEXT_LOCK_STORE_URL`` names a Redis, otherwise with Rasa's ``InMemoryLockStore``.
    ``key_prefix``, ``poll_interval`` and ``socket_timeout`` in ``endpoints.yml`` are passed
    on (the prefix defaults to ``KLARTEXT_LOCK_STORE_PREFIX``).
    """

    def __new__(cls, endpoint_config: Optional[EndpointConfig] = None) -> Any:
        settings = load_settings()
        options = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        url = (endpoint_config.url if endpoint_config is not None else None) or (
            settings.lock_store_url
        )
        if not url:
            _warn_if_several_workers()
            logger.info("Lock store: in-process (KLARTEXT_LOCK_STORE_URL is not set)")
            return InMemoryLockStore()
        options.setdefault("key_prefix", settings.lock_store_prefix)
        store = RedisTicketLockStore(url, **options)
        logger.info("Lock store: Redis %s, keys %s*", _without_password(url), store.key_prefix)
        return store


def _warn_if_several_workers() -> None:
    """Rasa allows ``SANIC_WORKERS`` > 1 with any custom lock store – not for this one."""
    workers = os.environ.get("SANIC_WORKERS", "").strip()
    if workers not in ("", "1"):
        logger.warning(
            "SANIC_WORKERS=%s with in-process conversation locks: two workers can answer "
            "the same conversation at once. Set KLARTEXT_LOCK_STORE_URL to a Redis.",
            workers,
        )


def _milliseconds(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


def _held_lock(conversation_id: Text, ticket: int, lock_lifetime: float) -> TicketLock:
    """A ``TicketLock`` whose ticket being served is ``ticket`` (what ``lock()`` yields)."""
    return TicketLock(conversation_id, deque([Ticket(ticket, time.time() + lock_lifetime)]))


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
