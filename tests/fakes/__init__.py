"""Test doubles of external services, each an HTTP server on loopback (127.0.0.1, free port).

* :class:`fakes.slack_api.FakeSlackAPI` – Slack's Web API (``chat.postMessage``, ``chat.update``).
* :class:`fakes.botframework.FakeIdentityProvider` – OpenID metadata, JWKS of a key pair the
  tests generate, and the client-credentials token endpoint.
* :class:`fakes.botframework.FakeBotConnector` – the Bot Connector service that receives
  the bot's replies.

Started once per test session (``channel_fakes`` fixture in ``tests/conftest.py``) before the
Rasa server, which gets their URLs through the environment.
"""
