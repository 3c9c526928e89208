"""The ports a kernel binds in its container are above the ephemeral range (kernel/ports.py).

Docker's embedded DNS resolver listens inside every container on the kernel network on
127.0.0.11 at a TCP port from the container's ephemeral range; a kernel port chosen the way
jupyter_client chooses (a free ephemeral port of the server's machine) sometimes was that very
port, and ipykernel exited with "Address already in use" (seen once in a cold CI run and once in
200 benchmark cycles). Unit tests of the choice, then a real kernel: its container has such a
resolver port, and none of the kernel's ports is in the container's own ephemeral range.
"""

from __future__ import annotations

import random
import socket

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels.daemon.plan import KERNEL_PORT_NAMES
from jupyter_gpu_kernels.kernel.ports import PORT_RANGE, assign_ports, free_ports

from .kernel_helpers import install_spec, isolated_jupyter_dirs, run_cell, start_kernel, stop_kernel


def test_free_ports_are_distinct_in_range_and_skip_a_taken_one():
    draw = random.Random(7)
    candidates = [draw.choice(PORT_RANGE) for _ in range(2)]
    busy = socket.socket()
    busy.bind(("127.0.0.1", candidates[0]))  # the first candidate is taken here
    try:
        got = free_ports(5, rng=random.Random(7))
    finally:
        busy.close()
    assert len(got) == len(set(got)) == 5
    assert all(p in PORT_RANGE for p in got)
    assert candidates[0] not in got and got[0] == candidates[1]


def test_assign_ports_fills_only_the_missing_ones():
    km = KernelManager()
    km.shell_port, km.hb_port = 61234, 61235  # a restart that keeps some ports (never in practice: all or none)
    assign_ports(km)
    ports = [getattr(km, n) for n in KERNEL_PORT_NAMES]
    assert km.shell_port == 61234 and km.hb_port == 61235
    assert len(set(ports)) == 5 and all(p in PORT_RANGE for p in ports)
    ipc = KernelManager(transport="ipc")
    assign_ports(ipc)
    assert not ipc.shell_port, "ipc transport: nothing to choose"


def _listening(proc_net_tcp: str) -> dict[str, set[int]]:
    """{address: ports} of the LISTEN sockets in a /proc/net/tcp text."""
    out: dict[str, set[int]] = {}
    for line in proc_net_tcp.splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":
            addr, port = local.split(":")
            ip = ".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0))
            out.setdefault(ip, set()).add(int(port, 16))
    return out


@pytest.mark.docker
def test_a_kernels_ports_never_meet_the_containers_dns_resolver(tmp_path, monkeypatch, docker_client, test_image):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    install_spec("portk", test_image)
    km, kc = start_kernel("portk")
    try:
        assert run_cell(kc, "print(1)")["stdout"] == "1\n"
        container = docker_client.containers.get(km.provisioner.container_id)
        low, high = map(int, container.exec_run(["cat", "/proc/sys/net/ipv4/ip_local_port_range"]).output.split())
        listening = _listening(container.exec_run(["cat", "/proc/net/tcp"]).output.decode())
        resolver = listening.get("127.0.0.11", set())
        assert resolver and all(low <= p <= high for p in resolver), (resolver, low, high)  # what could collide
        inside = km.provisioner.result.container_ports
        assert set(inside.values()) <= listening.get("0.0.0.0", set()), (inside, listening)
        assert not [p for p in inside.values() if low <= p <= high], f"kernel ports {inside} in {low}-{high}"
    finally:
        stop_kernel(km, kc, now=True)
