"""Helpers for tests that run a Jupyter server (or kernel gateway) as a subprocess.

:func:`free_port` picks a free loopback port, :func:`api_json` calls the server's REST API with
its token, :func:`stop_process` ends the process (SIGTERM, then SIGKILL after a grace period).
Used by ``tests/test_owner_loss.py``, ``tests/support/gateway.py`` and ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_json(base_url: str, token: str, path: str, method: str = "GET", body: dict | None = None, timeout: float = 60):
    """``method base_url+path`` with the token and a JSON body; the JSON answer (None when empty).

    An HTTP error keeps its class and code, and its text is the server's whole message (the reason
    phrase has only its first line: a launch failure's container log tail is in the body)."""
    req = urllib.request.Request(
        f"{base_url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
    except urllib.error.HTTPError as e:
        raise urllib.error.HTTPError(e.url, e.code, _error_text(e), e.headers, None) from None
    return json.loads(data) if data else None


def _error_text(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read().decode(errors="replace")
        body = json.loads(raw)
        message = str(body.get("message") or "")
        if body.get("reason") and body["reason"] not in message:  # jupyter_server's 500: "Unhandled error"
            message = f"{message}: {body['reason']}" if message else str(body["reason"])
        return message or raw or str(e.reason)
    except (OSError, ValueError, AttributeError):
        return str(e.reason)


def stop_process(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM, up to ``grace`` seconds to exit, then SIGKILL; a no-op when it already exited."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
