"""Helpers for tests that run a Jupyter server (or kernel gateway) as a subprocess.

:func:`free_port` picks a free loopback port, :func:`api_json` calls the server's REST API with
its token, :func:`stop_process` ends the process (SIGTERM, then SIGKILL after a grace period).
Used by ``tests/test_owner_loss.py``, ``tests/support/gateway.py`` and ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_json(base_url: str, token: str, path: str, method: str = "GET", body: dict | None = None,
             timeout: float = 60):
    """``method base_url+path`` with the token and a JSON body; the JSON answer (None when empty)."""
    req = urllib.request.Request(
        f"{base_url}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        data = r.read()
    return json.loads(data) if data else None


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
