"""Keep the user informed when the action server fails – for every input channel.

Stock Rasa 3.6 turns a failed custom-action call (action server down, timing out or
answering 5xx) into an exception that the ``MessageProcessor`` logs and swallows: the user
gets no reply at all. This module fixes that at the one place every custom-action call
passes through, the agent's action ``EndpointConfig``:

* :class:`GuardedActionEndpoint` is an ``EndpointConfig`` whose ``request`` catches the
  failure of an action call and answers, in place of the action server, with an empty list
  of events and one German bot message (``connectors/messages.yml``). Rasa then utters that
  message through the normal output channel (REST, socket.io, Slack, …) and logs it in the
  tracker as a ``BotUttered``; a ``FollowupAction(action_listen)`` ends the turn there, so
  no rule goes on with steps the failed action should have prepared. The next message
  works normally again as soon as the action server is back.
  A rejection (HTTP 400, ``ActionExecutionRejection``) is passed on unchanged, and the
  message is uttered at most once per user turn.
  Every call carries the action secret (header ``X-Klartext-Action-Secret``,
  :func:`connectors.security.action_secret`): the action server runs nothing without it
  (:mod:`actions.auth`).
* :func:`install_action_guard` puts the guarded endpoint into a loaded agent (idempotent,
  cheap; call it per message because ``PUT /model`` replaces the agent). It also makes the
  agent's tracker store raise its errors (:func:`install_storage_guard`) instead of Rasa's
  silent fall-back to an empty in-memory conversation while the database is down.
* :func:`handle_safely` wraps an input channel's ``on_new_message`` call: installs the
  guard, and turns any unexpected exception into a logged stack trace plus a German
  apology on the message's output channel – never a stack trace for the user. When the
  database is down (:func:`outage_notice`) the apology is the "kurz nicht erreichbar"
  notice: the message was not stored, the conversation so far is kept, the next message
  works as soon as the database is back (the connection pool reconnects by itself).

Reuse in another channel (socket.io, Slack, Teams)::

    from connectors.guard import handle_safely
    await handle_safely(on_new_message, UserMessage(text, output_channel, sender_id))
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
import sqlalchemy.exc
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from connectors import texts
from connectors.security import ACTION_SECRET_HEADER, action_secret

logger = logging.getLogger(__name__)

#: Key in the metadata of the uttered notice; marks it in the tracker (and for dedup).
NOTICE_METADATA_KEY = "klartext_notice"

ACTION_LISTEN = "action_listen"
ACTION_VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"

#: Key in ``action_endpoint`` of endpoints.yml: seconds an action call may take at most.
TIMEOUT_KEY = "timeout"


class GuardedActionEndpoint(EndpointConfig):
    """Action endpoint that answers for an unreachable or failing action server."""

    @classmethod
    def wrap(cls, endpoint: Optional[EndpointConfig]) -> Optional[EndpointConfig]:
        """Return a guarded copy of ``endpoint`` (``None`` and guarded ones unchanged)."""
        if endpoint is None or isinstance(endpoint, cls):
            return endpoint
        guarded = cls.__new__(cls)
        guarded.__dict__.update(endpoint.__dict__)
        guarded.kwargs = dict(endpoint.kwargs)
        guarded.action_timeout = _as_timeout(guarded.kwargs.pop(TIMEOUT_KEY, None))
        guarded.headers = {**endpoint.headers, ACTION_SECRET_HEADER: action_secret()}
        return guarded

    async def request(
        self,
        method: str = "post",
        subpath: Optional[str] = None,
        content_type: Optional[str] = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Optional[Any]:
        payload = kwargs.get("json")
        is_action_call = (
            method.lower() == "post" and isinstance(payload, dict) and "next_action" in payload
        )
        if not is_action_call:
            return await super().request(method, subpath, content_type, compress, **kwargs)

        action = payload.get("next_action")
        timeout = getattr(self, "action_timeout", None)
        if timeout:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        try:
            result = await super().request(method, subpath, content_type, compress, **kwargs)
        except ClientResponseError as error:
            if error.status == 400:  # the action rejected itself: Rasa handles that
                raise
            logger.error(
                "Action server answered HTTP %s for custom action '%s' at %s: %s",
                error.status,
                action,
                self.url,
                error,
            )
            return self._notice(payload, "action_failed")
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            logger.error(
                "Action server at %s unreachable for custom action '%s': %r",
                self.url,
                action,
                error,
            )
            return self._notice(payload, "action_server_unavailable")
        except aiohttp.ClientError as error:
            logger.error("Calling custom action '%s' at %s failed: %r", action, self.url, error)
            return self._notice(payload, "action_failed")
        if not isinstance(result, dict):
            logger.error(
                "Action server at %s answered custom action '%s' without a JSON object",
                self.url,
                action,
            )
            return self._notice(payload, "action_failed")
        return result

    @staticmethod
    def _notice(payload: Dict[str, Any], key: str) -> Dict[str, Any]:
        """Stand-in action server answer: the notice (once per user turn), end of turn.

        ``FollowupAction(action_listen)`` ends the turn right after the failed action, so
        that rules/stories do not go on with steps that depended on it (e.g. a form that
        the failed action should have prepared); the user's next message starts afresh.
        The slot-mapping validation run by ``action_extract_slots`` accepts only slot and
        bot events, so it gets no follow-up (the next failing action ends the turn).
        """
        events: List[Dict[str, Any]] = []
        if payload.get("next_action") != ACTION_VALIDATE_SLOT_MAPPINGS:
            events.append({"event": "followup", "name": ACTION_LISTEN})
        if _notice_already_uttered(payload):
            return {"events": events, "responses": []}
        return {
            "events": events,
            "responses": [{"text": texts.reply(key), NOTICE_METADATA_KEY: key}],
        }


def _as_timeout(value: Any) -> Optional[float]:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _notice_already_uttered(payload: Dict[str, Any]) -> bool:
    """Whether the notice was already uttered since the latest user message."""
    events = ((payload.get("tracker") or {}).get("events")) or []
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and NOTICE_METADATA_KEY in (event.get("metadata") or {}):
            return True
    return False


#: errors of a database that is down or restarting (connection refused, closed, shutting down)
DATABASE_DOWN_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


def outage_notice(error: BaseException) -> Optional[str]:
    """The "kurz nicht erreichbar" notice when ``error`` means the database is down.

    The tracker store (PostgreSQL) failing while a message is handled raises one of
    :data:`DATABASE_DOWN_ERRORS`, possibly wrapped; ``None`` for any other error.
    """
    seen = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_DOWN_ERRORS):
            return texts.reply("database_unavailable")
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _raise_tracker_store_error(error: Exception) -> None:
    raise error


def install_storage_guard(agent: Any) -> None:
    """Let a failing tracker store fail the message instead of silently forgetting it.

    Rasa wraps the tracker store in a ``FailSafeTrackerStore`` that, when the database is
    down, logs the error and goes on with an empty in-memory conversation: the user gets an
    answer without the conversation's context and nothing of the turn is stored. With the
    error raised instead, :func:`handle_safely` answers with the "kurz nicht erreichbar"
    notice and the stored conversation stays as it was.
    """
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore):
        store._on_tracker_store_error = _raise_tracker_store_error


def install_action_guard(agent: Any) -> None:
    """Guard the action endpoint of ``agent`` (and of its processor) and its tracker store."""
    if agent is None:
        return
    install_storage_guard(agent)
    guarded = GuardedActionEndpoint.wrap(getattr(agent, "action_endpoint", None))
    if guarded is not None and agent.action_endpoint is not guarded:
        agent.action_endpoint = guarded
    processor = getattr(agent, "processor", None)
    if processor is not None:
        wrapped = GuardedActionEndpoint.wrap(processor.action_endpoint)
        if wrapped is not processor.action_endpoint:
            processor.action_endpoint = wrapped


def current_agent() -> Any:
    """The agent of the running Sanic app, or ``None``."""
    try:
        from sanic import Sanic

        return getattr(Sanic.get_app().ctx, "agent", None)
    except Exception:  # no app / several apps: nothing to guard
        return None


async def handle_safely(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    *,
    agent: Any = None,
) -> bool:
    """Run ``on_new_message(message)``; on any error log it and apologise in German.

    Returns ``True`` when the message was handled without an unexpected error.
    """
    try:
        install_action_guard(agent if agent is not None else current_agent())
    except Exception:  # never let the guard itself break message handling
        logger.exception("Could not install the action server guard")
    notice = None
    try:
        await on_new_message(message)
        return True
    except asyncio.CancelledError:
        logger.error("Handling the message of '%s' was cancelled (timeout)", message.sender_id)
    except Exception as error:
        logger.exception("Unexpected error while handling a message of '%s'", message.sender_id)
        # an error that knows what to tell the user (e.g. the lock store while Redis is down)
        notice = getattr(error, "user_notice", None) or outage_notice(error)
    try:
        await message.output_channel.send_text_message(
            message.sender_id, notice or texts.reply("unexpected_error")
        )
    except Exception:
        logger.exception("Could not send the apology to '%s'", message.sender_id)
    return False
