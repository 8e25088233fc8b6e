"""Sign-in over the generated client: a token pair refreshed before it expires
(refresh tokens rotate, so one lock guards the exchange), or an API key; and the
error every call raises with the server's problem+json `code`, `status` and
`request_id`."""

from __future__ import annotations

import json
import threading
import time

from skiff_api import AuthenticatedClient, Client
from skiff_api.api.auth import login as login_api
from skiff_api.api.auth import refresh as refresh_api
from skiff_api.models.login_request import LoginRequest
from skiff_api.models.refresh_request import RefreshRequest

REFRESH_BEFORE_EXPIRY = 60


class SkiffError(Exception):
    """An error answer of the server."""

    def __init__(self, status: int, code: str, detail: str, request_id: str | None, body: dict, retry_after: float | None = None):
        super().__init__(f"{status} {code}: {detail}" + (f" (request {request_id})" if request_id else ""))
        self.status = status
        self.code = code
        self.detail = detail
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response) -> SkiffError:
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        headers = {k.lower(): v for k, v in response.headers.items()}
        retry = headers.get("retry-after")
        return cls(
            response.status_code,
            body.get("code") or f"HTTP_{response.status_code}",
            body.get("detail") or body.get("message") or f"the server answered {response.status_code}",
            headers.get("x-request-id") or body.get("request_id"),
            body,
            float(retry) if retry and retry.isdigit() else None,
        )


class Session:
    """A signed-in user (or an API key) of one server."""

    def __init__(self, base_url: str, timeout: float = 30, clock=time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._api_key: str | None = None

    @classmethod
    def login(cls, base_url: str, email: str, password: str, **kw) -> Session:
        s = cls(base_url, **kw)
        r = login_api.sync_detailed(client=s.public(), body=LoginRequest(email=email, password=password))
        s._keep(r)
        return s

    @classmethod
    def with_api_key(cls, base_url: str, key: str, **kw) -> Session:
        s = cls(base_url, **kw)
        s._api_key = key
        return s

    @property
    def refresh_token(self) -> str | None:
        return self._refresh

    def public(self) -> Client:
        import httpx

        return Client(base_url=self.base_url, timeout=httpx.Timeout(self._timeout), raise_on_unexpected_status=False)

    def _keep(self, response) -> None:
        if response.status_code != 200:
            raise SkiffError.from_response(response)
        pair = response.parsed
        self._access, self._refresh = pair.access_token, pair.refresh_token
        self._expires_at = self._clock() + pair.expires_in

    def client(self) -> AuthenticatedClient:
        """A client with a token good for at least a minute."""
        import httpx

        with self._lock:
            token = self._api_key
            if token is None:
                if self._refresh is None:
                    raise SkiffError(401, "NOT_SIGNED_IN", "log in first", None, {})
                if self._expires_at - self._clock() < REFRESH_BEFORE_EXPIRY:
                    r = refresh_api.sync_detailed(client=self.public(), body=RefreshRequest(refresh_token=self._refresh))
                    self._keep(r)
                token = self._access
        return AuthenticatedClient(base_url=self.base_url, token=token, timeout=httpx.Timeout(self._timeout))
