"""Benchmark: kernels on a remote host over SSH vs the local daemon, and the SSH overhead per
Docker API call (one OpenSSH connection reused vs a new SSH login per call, which is what
docker-py's ``use_ssh_client`` does — docker/docker-py#2966).

Needs root (it starts the simulated remote host: sshd + dockerd in a network namespace).

    python -m tests.benchmarks.bench_remote [--runs 3] [--execs 200] [--calls 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import docker

from jupyter_gpu_kernels.hosts import ssh
from jupyter_gpu_kernels.hosts.registry import DockerHosts
from jupyter_gpu_kernels.hosts.transport import connect
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config
from tests.benchmarks.bench_provisioner import bench_manager


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--execs", type=int, default=200)
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()
    from tests.support.image import ensure_test_image
    from tests.support.remote_host import start_remote_host

    image = ensure_test_image(docker.from_env())
    remote = start_remote_host(fake_gpu=False)
    tmp = tempfile.mkdtemp(prefix="bench-remote-")
    for var in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_PATH"):
        os.environ[var] = tmp
    os.environ["JGK_SSH_DIR"] = f"/tmp/jgk-ssh-bench-{os.getpid()}"
    try:
        hosts = DockerHosts()
        hosts.add("box", remote.url, options={"ssh_options": remote.ssh_options, "remote_socket": remote.remote_socket})
        install("local-k", kernel_json("local", provisioner_config(image=image)), user=True)
        install("remote-k", kernel_json("remote", provisioner_config(image=image, host="box")), user=True)
        results = {"local daemon": [], "remote over SSH": []}
        for i in range(args.runs):
            execs = args.execs if i == 0 else 0
            results["local daemon"].append(bench_manager("local-k", execs))
            results["remote over SSH"].append(bench_manager("remote-k", execs))

        # per-call overhead: a ping through the reused connection vs a fresh ssh login each time
        client = connect(hosts.get("box"))
        t0 = time.perf_counter()
        for _ in range(args.calls):
            client.ping()
        reused = (time.perf_counter() - t0) / args.calls
        local = docker.from_env()
        t0 = time.perf_counter()
        for _ in range(args.calls):
            local.ping()
        local_call = (time.perf_counter() - t0) / args.calls
        t0 = time.perf_counter()
        n = max(3, args.calls // 5)
        for _ in range(n):
            subprocess.run(
                [
                    "ssh",
                    *remote.ssh_options,
                    "-o",
                    "BatchMode=yes",
                    remote.address,
                    "curl -s --unix-socket " + remote.remote_socket + " http://d/_ping || true",
                ],
                capture_output=True,
                check=False,
            )
        per_login = (time.perf_counter() - t0) / n
    finally:
        ssh.close_all()
        remote.stop()

    ready = {k: statistics.median(r for r, _ in v) for k, v in results.items()}
    rt = {k: v[0][1] for k, v in results.items()}
    print(f"image: {image}; {args.runs} starts each; {args.execs} round trips; {args.calls} API calls")
    print(f"{'variant':<20}{'ready (median)':>16}{'round trip (median)':>22}")
    for k in results:
        print(f"{k:<20}{ready[k] * 1000:>13.0f} ms{rt[k] * 1e6:>19.0f} µs")
    print(
        f"remote / local: ready {ready['remote over SSH'] / ready['local daemon']:.2f}x, "
        f"round trip {rt['remote over SSH'] / rt['local daemon']:.2f}x"
    )
    print(
        f"Docker API call (ping): local {local_call * 1e3:.2f} ms; over the reused SSH connection "
        f"{reused * 1e3:.2f} ms (+{(reused - local_call) * 1e3:.2f} ms); a new SSH login per call "
        f"{per_login * 1e3:.0f} ms ({per_login / reused:.0f}x the reused connection)"
    )


if __name__ == "__main__":
    main()
