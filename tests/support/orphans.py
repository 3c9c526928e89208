"""Real orphaned kernel containers: a client process starts kernels on the main daemon and exits
without shutting them down, so their owner is gone. A long ``orphan_timeout`` (600 s) keeps every
server's periodic reaper off them, so a test decides when they go. Used by tests/test_orphans_rest.py
and tests/browser/test_orphans.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.kernel.kernelspecs import kernel_json, provisioner_config

CLIENT = """
import os
from jupyter_client.manager import KernelManager
for _ in range({n}):
    km = KernelManager(kernel_name="orphaner")
    km.start_kernel()
    print(km.kernel_id, flush=True)
os._exit(0)  # no shutdown: the process just ends
"""


def container_states(client, kernel_ids) -> dict[str, str]:
    """{kernel id: status} of those kernels' containers (absent: no container)."""
    return {
        c.labels[L.KERNEL_ID]: c.status
        for c in client.containers.list(all=True, filters={"label": L.KERNEL_ID})
        if c.labels.get(L.KERNEL_ID) in kernel_ids
    }


def orphan_maker(tmp_path: Path, image: str, client) -> Iterator[Callable[[int], list[str]]]:
    """Yields ``make(n)``: n running orphans (their kernel ids); afterwards any left are removed."""
    made: list[str] = []

    def make(n: int) -> list[str]:
        data = tmp_path / "client-data"
        spec = data / "kernels" / "orphaner"
        spec.mkdir(parents=True, exist_ok=True)
        cfg = {**provisioner_config(image=image), "orphan_timeout": 600}
        (spec / "kernel.json").write_text(json.dumps(kernel_json("orphaner", cfg)))
        env = {
            **os.environ,
            "JUPYTER_DATA_DIR": str(data),
            "JUPYTER_PATH": str(data),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "client-runtime"),
        }
        proc = subprocess.run(
            [sys.executable, "-c", CLIENT.format(n=n)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        ids = proc.stdout.split()
        made.extend(ids)
        assert container_states(client, ids) == {k: "running" for k in ids}
        return ids

    yield make
    for c in client.containers.list(all=True, filters={"label": L.KERNEL_ID}):
        if c.labels.get(L.KERNEL_ID) in made:
            c.remove(force=True, v=True)
