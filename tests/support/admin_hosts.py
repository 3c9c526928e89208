"""Docker hosts defined by the administrator, for the tests of SSH hosts.

SSH options (``ssh_options``, ``remote_socket``) are honoured only from the administrator's config
(#11), so a test's SSH host lives in an admin config dir of the test (``JUPYTER_CONFIG_PATH``),
never in the developer's own config dirs. Used by tests/test_remote.py, test_ssh_masters.py and
test_build_commit_export.py.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_admin_host(admin: Path, name: str, url: str, ssh_options, remote_socket: str | None = None) -> Path:
    """Add host ``name`` to ``admin``/jupyter_server_config.json (kept hosts stay); returns ``admin``,
    the directory to put on ``JUPYTER_CONFIG_PATH`` (of this process or a subprocess)."""
    admin.mkdir(parents=True, exist_ok=True)
    path = admin / "jupyter_server_config.json"
    config = json.loads(path.read_text()) if path.exists() else {"GPUKernelsHosts": {"hosts": {}}}
    options = {"ssh_options": list(ssh_options), **({"remote_socket": remote_socket} if remote_socket else {})}
    config["GPUKernelsHosts"]["hosts"][name] = {"url": url, "options": options}
    path.write_text(json.dumps(config))
    return admin


def admin_host(tmp_path, monkeypatch, name, url, ssh_options, remote_socket=None) -> None:
    """Add ``name`` to an admin config dir (JUPYTER_CONFIG_PATH) of this test, where SSH options may
    be set, and make this process's settings read it again."""
    from jupyter_gpu_kernels.settings import Settings

    admin = write_admin_host(tmp_path / "admin-config", name, url, ssh_options, remote_socket)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    Settings.reset()
