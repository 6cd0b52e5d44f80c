"""Bot Framework authentication: validate incoming tokens (PyJWT), obtain outgoing ones (aiohttp).

Incoming (Bot Connector → bot), on every activity (:class:`ChannelTokenValidator`):

* ``Authorization: Bearer <JWT>`` is required; the token must be signed with RS256 by a key
  of the JWKS named in the OpenID metadata (``KLARTEXT_TEAMS_OPENID_METADATA_URL``, default
  ``https://login.botframework.com/v1/.well-known/openidconfiguration``);
* ``iss`` must be one of the accepted issuers (default ``https://api.botframework.com``),
  ``aud`` the bot's app id, ``exp``/``nbf`` valid (five minutes clock skew);
* the ``serviceUrl`` claim must equal the activity's ``serviceUrl`` (the address the reply
  is sent to cannot be swapped), the key's endorsements must include the activity's
  ``channelId``, and for a single-tenant bot the activity's tenant must be the bot's.

The keys come from PyJWT's :class:`jwt.PyJWKClient` (:class:`OpenIdJWKClient` adds the
discovery of the JWKS through the OpenID metadata and the keys' endorsements): fetched on first
use, refreshed after ``KEY_CACHE_SECONDS`` and – at most once a minute – when a token names an
unknown key id (key rotation), so a flood of forged tokens does not turn into a flood of
fetches. When a refresh fails, the keys loaded before stay in use and the refresh is retried
at most once a minute. PyJWKClient reads with
urllib (blocking), so :class:`OpenIdKeyCache` runs every lookup in a thread of its own, never
in the server's event loop.

Outgoing (bot → Bot Connector), :class:`ConnectorTokenClient`: client-credentials token
from ``https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`` (single-tenant) or
``…/botframework.com/…`` (multi-tenant), scope ``https://api.botframework.com/.default``,
cached until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

import aiohttp
import jwt
from jwt import PyJWK, PyJWKClient, PyJWKClientError

logger = logging.getLogger(__name__)

DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_ISSUER = "https://api.botframework.com"
DEFAULT_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 300
KEY_CACHE_SECONDS = 24 * 3600
MIN_REFRESH_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 15


def token_url_for(tenant_id: str) -> str:
    """The token endpoint of a single-tenant (tenant id) or multi-tenant ('') bot."""
    return f"https://login.microsoftonline.com/{tenant_id or MULTI_TENANT}/oauth2/v2.0/token"


class AuthError(Exception):
    """A refused activity: HTTP ``status`` (401 unauthenticated, 403 forbidden) + reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class SigningKey:
    key: Any
    endorsements: List[str] = field(default_factory=list)


class OpenIdJWKClient(PyJWKClient):
    """PyJWKClient for the JWKS named by an OpenID metadata document (read on every fetch).

    Also keeps the keys' ``endorsements`` (the channels a key may sign for, a Bot Framework
    extension of JWK) and, when a fetch fails, goes on with the last keys it got and tries
    again after ``MIN_REFRESH_SECONDS``.
    """

    def __init__(self, metadata_url: str) -> None:
        super().__init__(
            metadata_url,  # replaced by the metadata's jwks_uri on the first fetch
            lifespan=KEY_CACHE_SECONDS,
            cooldown_duration=MIN_REFRESH_SECONDS,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        self.metadata_url = metadata_url
        self.endorsements: Dict[str, List[str]] = {}
        self._last_keys: Optional[Dict[str, Any]] = None
        self._retry_at: Optional[float] = None

    def get_signing_keys(self, refresh: bool = False) -> List[PyJWK]:
        retry = self._retry_at is not None and time.monotonic() >= self._retry_at
        return super().get_signing_keys(refresh=refresh or retry)

    def fetch_data(self) -> Any:
        try:
            # the metadata is read like the keys: urllib, no redirects, http(s) only
            metadata = PyJWKClient(
                self.metadata_url, cache_jwk_set=False, timeout=self.timeout
            ).fetch_data()
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or urlparse(jwks_uri).scheme not in ("http", "https"):
                raise PyJWKClientError("OpenID metadata without an http(s) jwks_uri")
            self.uri = jwks_uri
            data = super().fetch_data()
        except (jwt.PyJWTError, ValueError, OSError) as error:
            logger.error(
                "Could not load the Bot Framework signing keys from %s: %r",
                self.metadata_url,
                error,
            )
            self._retry_at = time.monotonic() + MIN_REFRESH_SECONDS
            if self._last_keys is None:
                raise
            return self._last_keys
        self._last_keys, self._retry_at = data, None
        self.endorsements = {
            str(jwk["kid"]): [str(e) for e in jwk.get("endorsements") or []]
            for jwk in data.get("keys", [])
            if isinstance(jwk, dict) and jwk.get("kid")
        }
        logger.info("Loaded %d Bot Framework signing keys", len(self.endorsements))
        return data


class OpenIdKeyCache:
    """The signing keys named by an OpenID metadata document, looked up off the event loop."""

    def __init__(self, metadata_url: str) -> None:
        self.metadata_url = metadata_url
        self.client = OpenIdJWKClient(metadata_url)
        # one thread: lookups wait for a running fetch instead of starting their own
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bf-keys")

    async def get(self, kid: str) -> Optional[SigningKey]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._lookup, kid)

    def _lookup(self, kid: str) -> Optional[SigningKey]:
        try:
            jwk = self.client.get_signing_key(kid)
        except (jwt.PyJWTError, ValueError, OSError):  # unknown key id, or no keys loaded
            return None
        if jwk.key_type != "RSA":
            return None
        return SigningKey(jwk.key, self.client.endorsements.get(kid, []))

    def close(self) -> None:
        self._executor.shutdown(wait=False)


class SessionProvider:
    """One aiohttp session per event loop, created lazily."""

    def __init__(self) -> None:
        self._session: Optional[aiohttp.ClientSession] = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
            )
        return self._session

    async def get_json(self, url: str) -> Any:
        async with self.get().get(url) as resp:
            if resp.status != 200:
                raise ValueError(f"GET {url} answered HTTP {resp.status}")
            return await resp.json(content_type=None)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def activity_tenant(activity: Dict[str, Any]) -> Optional[str]:
    """The Microsoft Entra tenant an activity comes from (Teams puts it in two places)."""
    tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
    if not tenant:
        tenant = (activity.get("conversation") or {}).get("tenantId")
    return tenant if isinstance(tenant, str) and tenant else None


class ChannelTokenValidator:
    """Validates the token of every activity the Bot Connector sends to the bot."""

    def __init__(
        self, app_id: str, keys: OpenIdKeyCache, issuers: Iterable[str], tenant_id: str = ""
    ) -> None:
        self.app_id = app_id
        self.keys = keys
        self.issuers = [issuer for issuer in issuers if issuer] or [DEFAULT_ISSUER]
        self.tenant_id = tenant_id

    async def validate(
        self, authorization: Optional[str], activity: Dict[str, Any]
    ) -> Dict[str, Any]:
        """The token's claims; raises :class:`AuthError` when the activity is refused."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError(401, "missing bearer token")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError(401, "malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(401, f"algorithm {header.get('alg')!r} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError(401, "token without key id")
        signing_key = await self.keys.get(kid)
        if signing_key is None:
            raise AuthError(401, "unknown signing key")
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=ALGORITHMS,
                audience=self.app_id,
                issuer=self.issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(401, "wrong audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError(401, "wrong issuer") from None
        except jwt.PyJWTError as error:
            raise AuthError(401, f"invalid token ({type(error).__name__})") from None

        service_url = activity.get("serviceUrl")
        if claims.get("serviceUrl") != service_url:
            raise AuthError(401, "serviceUrl claim does not match the activity")
        channel_id = activity.get("channelId")
        if signing_key.endorsements and channel_id not in signing_key.endorsements:
            raise AuthError(403, f"key not endorsed for channel {channel_id!r}")
        if self.tenant_id and activity_tenant(activity) != self.tenant_id:
            raise AuthError(403, "activity from another tenant")
        return claims


class ConnectorTokenClient:
    """Client-credentials tokens for calls to the Bot Connector, cached."""

    def __init__(
        self,
        token_url: str,
        app_id: str,
        app_password: str,
        session: SessionProvider,
        scope: str = DEFAULT_SCOPE,
    ) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self.app_password = app_password
        self.scope = scope
        self._session = session
        self._token: Optional[Tuple[str, float]] = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.app_password,
                "scope": self.scope,
            }
            async with self._session.get().post(self.token_url, data=form) as resp:
                data = await resp.json(content_type=None)
                if resp.status != 200 or not isinstance(data, dict) or "access_token" not in data:
                    detail = data.get("error") if isinstance(data, dict) else data
                    raise RuntimeError(f"token endpoint answered HTTP {resp.status}: {detail}")
            lifetime = float(data.get("expires_in", 3600))
            self._token = (data["access_token"], time.monotonic() + max(60.0, lifetime - 300.0))
            return self._token[0]

    def forget(self) -> None:
        """Drop the cached token (after the connector refused it)."""
        self._token = None
