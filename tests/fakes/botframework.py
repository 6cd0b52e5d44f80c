"""Fakes of Microsoft's side of a Teams bot, with a key pair the tests generate.

* :class:`FakeIdentityProvider`: ``GET /.well-known/openidconfiguration`` (OpenID metadata),
  ``GET /keys`` (JWKS with the public key, endorsed for ``msteams``) and
  ``POST /oauth2/v2.0/token`` (client credentials → an access token the connector accepts).
  :meth:`FakeIdentityProvider.channel_token` signs tokens like the Bot Connector does.
* :class:`FakeBotConnector`: ``POST /v3/conversations/<id>/activities[/<replyToId>]`` –
  records the bot's replies and checks their bearer token.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Dict, List, Optional
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from fakes.fakeserver import FakeServer, Recorded, Reply

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeIdentityProvider(FakeServer):
    name = "fake-openid"

    def __init__(self, app_id: str, app_password: str, kid: str = "test-key-1") -> None:
        super().__init__()
        self.app_id = app_id
        self.app_password = app_password
        self.kid = kid
        self.key = new_key()
        self.issued_tokens: List[str] = []

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth2/v2.0/token"

    def jwks(self) -> Dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams", "emulator"]})
        return {"keys": [jwk]}

    def handle(self, request: Recorded) -> Reply:
        path = self.path_of(request)
        if request.method == "GET" and path == "/.well-known/openidconfiguration":
            return 200, {
                "issuer": ISSUER,
                "jwks_uri": f"{self.url}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        if request.method == "GET" and path == "/keys":
            return 200, self.jwks()
        if request.method == "POST" and path == "/oauth2/v2.0/token":
            form = request.form
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_id") != self.app_id
                or form.get("client_secret") != self.app_password
                or form.get("scope") != "https://api.botframework.com/.default"
            ):
                return 401, {"error": "invalid_client"}
            token = "fake-access-" + secrets.token_hex(8)
            self.issued_tokens.append(token)
            return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
        return 404, {"error": "not found"}

    def channel_token(
        self,
        service_url: str,
        *,
        audience: Optional[str] = None,
        issuer: str = ISSUER,
        key: Optional[rsa.RSAPrivateKey] = None,
        kid: Optional[str] = None,
        expires_in: int = 3600,
        extra: Optional[Dict[str, Any]] = None,
    ) -> str:
        """A token as the Bot Connector sends it (valid unless told otherwise)."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience or self.app_id,
            "serviceUrl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + expires_in,
        }
        claims.update(extra or {})
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def key_fetches(self) -> int:
        return len(self.recorded(lambda r: self.path_of(r) == "/keys"))


class FakeBotConnector(FakeServer):
    name = "fake-bot-connector"

    def __init__(self, identity: FakeIdentityProvider) -> None:
        super().__init__()
        self.identity = identity

    def handle(self, request: Recorded) -> Reply:
        path = self.path_of(request)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.identity.issued_tokens:
            return 401, {"error": {"code": "Unauthorized"}}
        if (
            request.method == "POST"
            and path.startswith("/v3/conversations/")
            and "/activities" in path
        ):
            return 200, {"id": "reply-" + secrets.token_hex(4)}
        return 404, {"error": "not found"}

    def activities(self, conversation_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """The bot's authorised replies (optionally in one conversation)."""
        result = []
        for r in self.recorded():
            path = self.path_of(r)
            if not path.startswith("/v3/conversations/") or not isinstance(r.json, dict):
                continue
            auth = r.headers.get("Authorization", "")
            if auth[7:] not in self.identity.issued_tokens:
                continue
            conversation = unquote(path[len("/v3/conversations/") :].split("/activities")[0])
            if conversation_id is None or conversation == conversation_id:
                result.append(dict(r.json, _path=path))
        return result

    def wait_activities(
        self, count: int, conversation_id: Optional[str] = None, timeout: float = 90.0
    ) -> List[Dict[str, Any]]:
        self.wait_for(lambda _: len(self.activities(conversation_id)) >= count, timeout)
        return self.activities(conversation_id)
