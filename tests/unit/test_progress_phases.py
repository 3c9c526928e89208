"""Every phase a kernel start reports (``progress.update(..., phase=...)`` anywhere in the package) is
one of ``kernel.progress.PHASES``, the list the sidebar's progress text knows (kernelStatus.ts)."""

from __future__ import annotations

import re
from pathlib import Path

import jupyter_gpu_kernels
from jupyter_gpu_kernels.kernel import progress

PACKAGE = Path(jupyter_gpu_kernels.__file__).resolve().parent
LAB = PACKAGE.parent / "labextension" / "src" / "kernelStatus.ts"


def test_reported_phases_are_known_and_have_a_text():
    used = {m for f in PACKAGE.rglob("*.py") for m in re.findall(r'\bphase="([^"]+)"', f.read_text())}
    assert "preparing ipykernel" in used
    assert used <= set(progress.PHASES), used - set(progress.PHASES)
    progress.begin("k-phase", "local", "img")
    try:
        progress.update("k-phase", phase="preparing ipykernel", message="Step 2/3")
        assert [r["phase"] for r in progress.starting() if r["kernel_id"] == "k-phase"] == ["preparing ipykernel"]
    finally:
        progress.finish("k-phase")
    if LAB.exists():  # the sidebar names every phase but the default ("preparing")
        text = LAB.read_text()
        assert all(f"case '{p}'" in text for p in progress.PHASES if p != "preparing")
