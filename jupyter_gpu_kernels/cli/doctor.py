"""``jupyter gpu-kernels doctor``: everything that must work, checked in one go, with fixes."""

from __future__ import annotations

from ..daemon.allocator import GPUAllocator
from ..daemon.images import list_images
from ..errors import GPUKernelsError
from ..hosts.registry import DockerHosts
from ..hosts.transport import connect

OK, WARN, FAIL = "ok", "warn", "FAIL"


def _line(status: str, what: str, detail: str = "", fix: str = "") -> None:
    print(f"[{status:>4}] {what}" + (f": {detail}" if detail else ""))
    if fix:
        print(f"       fix: {fix}")


def run_checks(hosts: DockerHosts, only: str | None = None) -> int:
    """Print one line per check; exit status 1 if anything failed."""
    failed = False
    targets = [hosts.get(only)] if only else hosts.all()
    try:
        import zmq

        _line(
            OK if zmq.has("curve") else WARN,
            "CurveZMQ in pyzmq",
            "yes" if zmq.has("curve") else "missing",
            "" if zmq.has("curve") else "install a pyzmq wheel built with libsodium (needed for remote TLS hosts)",
        )
    except ImportError:
        pass
    for host in targets:
        name = f"host {host.name} ({host.url})"
        try:
            client = connect(host)
            version = client.version()
        except GPUKernelsError as e:
            failed = True
            _line(
                FAIL,
                name,
                str(e).split(". ")[0],
                "start dockerd (e.g. `sudo systemctl start docker`) or fix DOCKER_HOST"
                if host.is_local
                else f"check `jupyter gpu-kernels hosts check {host.name}` and your SSH/TLS settings",
            )
            continue
        engine = version.get("Version", "?")
        _line(OK, name, f"Docker Engine {engine}, API {version.get('ApiVersion')}")
        inv = GPUAllocator.for_host(host).devices(client, max_age=0)
        if inv.driver and inv.gpus:
            _line(
                OK,
                f"  GPUs on {host.name}",
                f"{len(inv.gpus)} via {inv.source}: " + ", ".join(sorted({g.name for g in inv.gpus})),
            )
        elif inv.driver:
            _line(WARN, f"  GPUs on {host.name}", inv.error or "driver present but no GPU listed")
        else:
            _line(
                WARN,
                f"  GPUs on {host.name}",
                inv.error or "no GPU driver",
                "install the NVIDIA driver and nvidia-container-toolkit on that machine, then restart dockerd "
                "(CPU kernels work without)",
            )
        try:
            images = list_images(client)
        except Exception as e:  # keep going: a report, not a crash
            _line(WARN, f"  images on {host.name}", str(e))
            continue
        usable = [", ".join(i["tags"]) for i in images if i["has_ipykernel"]]
        if usable:
            _line(
                OK, f"  images with ipykernel on {host.name}", "; ".join(usable[:8]) + (" …" if len(usable) > 8 else "")
            )
        else:
            _line(
                WARN,
                f"  images with ipykernel on {host.name}",
                "none",
                f"pull or build one, e.g. `jupyter gpu-kernels pull quay.io/jupyter/pytorch-notebook --host {host.name}`",
            )
    return 1 if failed else 0
