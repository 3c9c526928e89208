"""Benchmark: our provisioner vs a raw `docker run` of the same image vs a bare local ipykernel.

Prints time to kernel ready (start → kernel_info reply) and the median execute
round trip, with ratios. Not a test: targets are read off the printed figures
(ready ≤ 1.1× raw docker run; round trip ≤ 1.05× local).

    python -m tests.benchmarks.bench_provisioner [--image IMAGE] [--runs 5] [--execs 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import docker
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config


def round_trips(kc: BlockingKernelClient, n: int) -> float:
    for _ in range(20):  # warm up
        kc.execute_interactive("pass", timeout=10)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        msg_id = kc.execute("pass")
        while True:
            reply = kc.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_manager(kernel_name: str, execs: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    ready = time.perf_counter() - t0
    rt = round_trips(kc, execs) if execs else 0.0
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return ready, rt


def bench_raw_docker(client: docker.DockerClient, image: str, execs: int) -> tuple[float, float]:
    """What a user would do by hand: docker run with a bind-mounted connection file, connect to the container."""
    tmp = tempfile.mkdtemp(prefix="bench-raw-")
    os.chmod(tmp, 0o777)
    t0 = time.perf_counter()
    fname, info = write_connection_file(
        os.path.join(tmp, "k.json"),
        ip="0.0.0.0",
        shell_port=50001,
        iopub_port=50002,
        stdin_port=50003,
        hb_port=50004,
        control_port=50005,
    )
    os.chmod(fname, 0o666)
    c = client.containers.run(
        image,
        ["python", "-m", "ipykernel_launcher", "-f", "/conn/k.json"],
        volumes=[f"{tmp}:/conn:rw"],
        detach=True,
        user=f"{os.getuid()}:{os.getgid()}",
        environment={"HOME": "/tmp"},
    )
    try:
        c.reload()
        info = dict(info)
        info["ip"] = c.attrs["NetworkSettings"]["IPAddress"]
        kc = BlockingKernelClient()
        kc.load_connection_info(info)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        ready = time.perf_counter() - t0
        rt = round_trips(kc, execs) if execs else 0.0
        kc.stop_channels()
    finally:
        c.remove(force=True)
    return ready, rt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", default=None)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--execs", type=int, default=300)
    args = p.parse_args()
    client = docker.from_env()
    image = args.image
    if image is None:
        from tests.support.image import ensure_test_image

        image = ensure_test_image(client)
    with tempfile.TemporaryDirectory() as data:
        os.environ["JUPYTER_DATA_DIR"] = data
        os.environ["JUPYTER_PATH"] = data
        install("bench", kernel_json("bench", provisioner_config(image=image)), user=True)
        results: dict[str, list[tuple[float, float]]] = {
            "gpu-docker-provisioner": [],
            "raw docker run": [],
            "local ipykernel": [],
        }
        for i in range(args.runs):
            execs = args.execs if i == 0 else 0  # round trips measured once per variant
            results["raw docker run"].append(bench_raw_docker(client, image, execs))
            results["gpu-docker-provisioner"].append(bench_manager("bench", execs))
            results["local ipykernel"].append(bench_manager("python3", execs))
    ready = {k: statistics.median(r for r, _ in v) for k, v in results.items()}
    rt = {k: v[0][1] for k, v in results.items()}
    print(f"image: {image}; {args.runs} starts each, {args.execs} execute round trips")
    print(f"{'variant':<24}{'ready (median)':>16}{'round trip (median)':>22}")
    for k in results:
        print(f"{k:<24}{ready[k] * 1000:>13.0f} ms{rt[k] * 1e6:>19.0f} µs")
    print(
        f"ready ratio  ours / raw docker run : {ready['gpu-docker-provisioner'] / ready['raw docker run']:.2f}  (target ≤ 1.10)"
    )
    print(
        f"round trip   ours / local ipykernel: {rt['gpu-docker-provisioner'] / rt['local ipykernel']:.2f}  (target ≤ 1.05)"
    )
    print(json.dumps({"ready_s": ready, "round_trip_s": rt}))


if __name__ == "__main__":
    main()
