"""A real OpenID Connect provider for the tests, and a headless sign-in through it.

``OidcProvider`` runs ``tests/peers/oidc/provider.mjs`` (node ``oidc-provider``, pinned in
``package.json``) on ``http://127.0.0.1:PORT`` with one confidential web client. Signing in as
any login makes that login the account: ``jane@acme.test`` gets an ID token with
``email: jane@acme.test``; ``unverified+jane@acme.test`` gets ``jane@acme.test`` with
``email_verified: false``. The provider lists the Gmail, Microsoft Graph and Yahoo mail scopes,
issues a refresh token on every code exchange (as Google does) and supports revocation (RFC 7009)
and introspection (RFC 7662), so a test can break a connection the way a user would.

``sign_in`` drives the provider's development login and consent forms with one ``httpx.Client``
and returns the redirect to the client's callback, without requesting it. The authorization
response carries ``code``, ``state`` and ``iss`` (RFC 9207); a denial carries
``error=access_denied``, ``error_description``, ``state`` and ``iss``.

Typical use::

    with OidcProvider(client_id="c", client_secret="s", redirect_uris=[callback]) as idp:
        with httpx.Client() as browser:
            callback_url = sign_in(browser, authorize_url, login="jane@acme.test")
"""

from __future__ import annotations

import fcntl
import html
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import urljoin, urlsplit

import httpx

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 5.0
NPM_TIMEOUT_SECONDS = 120.0
HTTP_TIMEOUT = httpx.Timeout(10.0)
MAX_SIGN_IN_STEPS = 20

_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"', re.IGNORECASE)
_PROMPT_INPUT = re.compile(r'name="prompt"\s+value="([a-z_]+)"', re.IGNORECASE)
_ABORT_LINK = re.compile(r'href="([^"]*/abort)"', re.IGNORECASE)


class PeerStartError(RuntimeError):
    """A test peer did not start; the message carries what it wrote to stderr."""


class SignInError(RuntimeError):
    """The provider's sign-in pages did not lead back to the client as expected."""


class OidcProvider:
    """One ``oidc-provider`` process with one client, started and stopped by the test."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        port: int | None = None,
        issuer: str | None = None,
    ) -> None:
        """Configure the provider; nothing runs until ``start()`` (or ``with``).

        ``port=None`` lets the provider bind any free port on 127.0.0.1 (no race). ``issuer``
        defaults to ``http://127.0.0.1:PORT``; if given it must be on 127.0.0.1, and may have a
        path (the provider is then served under it, as Microsoft's per-tenant issuers are), and
        its port is used when ``port`` is None.
        """
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self._requested_issuer = issuer
        self._port = port if port is not None else _port_of(issuer)
        self._issuer: str | None = None
        self._metadata: dict[str, object] = {}
        self._process: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._pumps: list[threading.Thread] = []

    # Lifecycle

    def start(self) -> Self:
        """Start node (installing the pinned packages first if needed); wait for READY."""
        if self._process is not None:
            return self
        node = shutil.which("node")
        if node is None:
            raise PeerStartError("node not found: the OIDC test peer needs Node.js 20+ and npm")
        _ensure_node_modules()
        env = {
            **os.environ,
            "PORT": str(self._port or 0),
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret,
            "REDIRECT_URIS": ",".join(self.redirect_uris),
            "EXIT_WITH_STDIN": "1",  # node exits if this process dies without calling stop()
        }
        if self._requested_issuer is not None:
            env["ISSUER"] = self._requested_issuer
        self._process = subprocess.Popen(
            [node, "provider.mjs"],
            cwd=PROVIDER_DIR,
            env=env,
            stdin=subprocess.PIPE,  # never written; closes when this process exits
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        stdout: list[str] = []
        self._pumps = [
            _drain(self._process.stdout, stdout),
            _drain(self._process.stderr, self._stderr),
        ]
        try:
            self._issuer = self._wait_for_ready(stdout)
            response = httpx.get(self.metadata_url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            self._metadata = response.json()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the provider (all its sessions, grants and tokens are in memory)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pump in self._pumps:
            pump.join(timeout=STOP_TIMEOUT_SECONDS)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Endpoints

    @property
    def issuer(self) -> str:
        """The issuer identifier, as in discovery, ID tokens and the ``iss`` response parameter."""
        if self._issuer is None:
            raise RuntimeError("OidcProvider is not started")
        return self._issuer

    @property
    def metadata_url(self) -> str:
        """The OpenID Connect discovery document (``/.well-known/openid-configuration``)."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def metadata(self) -> dict[str, object]:
        """The discovery document, fetched once at start."""
        return self._metadata

    @property
    def authorization_url(self) -> str:
        return self._endpoint("authorization_endpoint")

    @property
    def token_url(self) -> str:
        return self._endpoint("token_endpoint")

    @property
    def revocation_url(self) -> str:
        return self._endpoint("revocation_endpoint")

    @property
    def introspection_url(self) -> str:
        return self._endpoint("introspection_endpoint")

    @property
    def stderr(self) -> str:
        """Everything the node process wrote to stderr so far (for failure messages)."""
        return "".join(self._stderr)

    # Actions a test takes as the user or the provider

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (RFC 7009), as a user removing the app would.

        A revoked refresh token then gets HTTP 400 ``invalid_grant`` at the token endpoint.
        """
        response = httpx.post(
            self.revocation_url,
            data={"token": token},
            auth=(self.client_id, self.client_secret),
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()

    # Private helpers

    def _endpoint(self, name: str) -> str:
        value = self._metadata.get(name)
        if not isinstance(value, str):
            raise RuntimeError(f"OidcProvider is not started or has no {name}")
        return value

    def _wait_for_ready(self, lines: list[str]) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for line in list(lines):
                if line.startswith("READY "):
                    return line.removeprefix("READY ").strip()
            assert self._process is not None
            if self._process.poll() is not None:
                time.sleep(0.05)  # let the stderr reader catch up
                raise PeerStartError(f"oidc-provider exited with {self._process.returncode}:\n{self.stderr}")
            time.sleep(0.01)
        raise PeerStartError(f"oidc-provider not ready after {START_TIMEOUT_SECONDS} s:\n{self.stderr}")


def sign_in(
    client: httpx.Client,
    authorize_url: str,
    *,
    login: str,
    consent: bool = True,
) -> str:
    """Sign in at the provider as ``login`` and return the redirect back to the client.

    Starting from the full authorization request URL, follows the provider's redirects on its
    own origin, submits the development login form (any password) and the consent form, and
    stops at the first ``Location`` that leaves the provider's origin, returning it as an
    absolute URL without requesting it. With ``consent=False`` it signs in and then cancels at
    the consent step, so the callback carries ``error=access_denied``.

    ``client`` must not follow redirects itself and keeps the provider's cookies between calls.
    Reusing it signs in again with the same provider session, and a client already granted those
    scopes is not asked again: no forms, straight to the callback. To deny in that case, use a
    fresh ``httpx.Client`` or put ``prompt=consent`` in the request; otherwise ``consent=False``
    raises ``SignInError``.
    """
    if client.follow_redirects:
        raise ValueError("sign_in needs an httpx.Client with follow_redirects=False")
    provider_origin = _origin(authorize_url)
    url = authorize_url
    response = client.get(url, timeout=HTTP_TIMEOUT)
    for _ in range(MAX_SIGN_IN_STEPS):
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if _origin(url) != provider_origin:
                if not consent and "error=" not in url:
                    raise SignInError(f"the provider did not ask for consent; returned {url}")
                return url
            response = client.get(url, timeout=HTTP_TIMEOUT)
            continue
        if response.status_code != 200:
            raise SignInError(f"{response.status_code} at {url}: {response.text[:500]}")
        prompt, action, abort = _read_interaction(response.text, url)
        if prompt == "login":
            form = {"prompt": "login", "login": login, "password": "x"}
            response = client.post(action, data=form, timeout=HTTP_TIMEOUT)
        elif prompt == "consent" and consent:
            response = client.post(action, data={"prompt": "consent"}, timeout=HTTP_TIMEOUT)
        elif prompt == "consent":
            response = client.get(abort, timeout=HTTP_TIMEOUT)
        else:
            raise SignInError(f"unexpected prompt {prompt!r} at {url}")
        url = action
    raise SignInError(f"no redirect to the client after {MAX_SIGN_IN_STEPS} steps; last {url}")


def _read_interaction(page: str, url: str) -> tuple[str, str, str]:
    """The prompt name, form action and cancel link of a devInteractions page."""
    prompt = _PROMPT_INPUT.search(page)
    action = _FORM_ACTION.search(page)
    if prompt is None or action is None:
        raise SignInError(f"no login or consent form at {url}: {page[:500]}")
    abort = _ABORT_LINK.search(page)
    action_url = urljoin(url, html.unescape(action.group(1)))
    abort_url = urljoin(url, html.unescape(abort.group(1))) if abort else action_url + "/abort"
    return prompt.group(1), action_url, abort_url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _port_of(issuer: str | None) -> int | None:
    return urlsplit(issuer).port if issuer else None


def _drain(stream: IO[str], into: list[str]) -> threading.Thread:
    """Read a pipe line by line in a daemon thread, so node never blocks on a full pipe."""

    def pump() -> None:
        for line in stream:
            into.append(line)

    thread = threading.Thread(target=pump, name="oidc-provider-pipe", daemon=True)
    thread.start()
    return thread


def _ensure_node_modules() -> None:
    """Run ``npm ci`` once if the pinned packages are missing (locked against parallel runs)."""
    installed = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if installed.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise PeerStartError("npm not found: the OIDC test peer needs Node.js 20+ and npm")
    with open(PROVIDER_DIR / "package-lock.json", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers may all get here at once
        if installed.is_file():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise PeerStartError(f"npm ci failed in {PROVIDER_DIR}:\n{result.stderr}")
