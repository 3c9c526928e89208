"""What every backend must do (daemon/backend.py's KernelBackend), checked on real daemons.

Each test drives the contract directly, as kernel/launcher.py and kernel/watch.py do, with a real
:class:`LaunchPlan` (built by kernel/planning.build_plan from provisioner settings and prepared by
the launcher: image, interpreter, connection mode), for every backend target: ``local`` (the
default daemon, direct mode) and ``ssh`` (the simulated remote host over SSH, tunnel mode; its
kernel ports forwarded as the launcher does). A new backend (a Swarm service, a warm pool) adds
its target to :data:`TARGETS` and passes the same tests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import docker.errors
import pytest

from jupyter_gpu_kernels.daemon.backend import KernelBackend
from jupyter_gpu_kernels.daemon.containers import ContainerOps
from jupyter_gpu_kernels.daemon.labels import KERNEL_ID
from jupyter_gpu_kernels.daemon.networks import KERNEL_NETWORK, ensure_kernel_network
from jupyter_gpu_kernels.daemon.plan import KERNEL_PORT_NAMES, LaunchPlan, Placement
from jupyter_gpu_kernels.daemon.records import RESERVED_SUFFIX
from jupyter_gpu_kernels.errors import KernelLaunchError, SpecError
from jupyter_gpu_kernels.hosts import ssh, transport
from jupyter_gpu_kernels.kernel.launcher import KernelLauncher
from jupyter_gpu_kernels.kernel.planning import LaunchContext, build_plan
from jupyter_gpu_kernels.kernel.provisioner import GPUDockerProvisioner
from jupyter_gpu_kernels.settings import Settings

from .kernel_helpers import isolated_jupyter_dirs, zmq_answers
from .support.admin_hosts import admin_host

pytestmark = [pytest.mark.docker, pytest.mark.remote]

TARGETS = ["local", "ssh"]
ANSWER_SECONDS = 30
LOG = logging.getLogger("jgk-conformance")


@dataclass
class Target:
    """One backend on one host: the backend, a client for the host, and direct access for assertions."""

    name: str
    ops: KernelBackend
    host: Any
    image: str
    direct: Any  # a client of the daemon itself, for assertions (not through the backend)
    kernel_ids: list[str] = field(default_factory=list)

    def plan(self, **traits: Any) -> tuple[Any, str, LaunchPlan]:
        """A real plan for a fresh kernel id, prepared as the launcher does: (client, mode, plan)."""
        kernel_id = f"{uuid.uuid4()}"
        self.kernel_ids.append(kernel_id)
        settings = GPUDockerProvisioner(image=self.image, host=self.host.name, gpus="none", **traits)
        ctx = LaunchContext(kernel_id=kernel_id, cwd=os.getcwd(), env={}, kernel_name="conformance")
        plan = build_plan(settings, self.host, ctx, Settings.for_process().image_policy)
        client, mode, plan, _hint = asyncio.run(KernelLauncher(self.host, self.ops, LOG).prepare(plan))
        if plan.network == KERNEL_NETWORK:
            ensure_kernel_network(client)
        return client, mode, plan

    def ours(self) -> list[Any]:
        """This test's kernel containers on the daemon, whatever their state."""
        found = self.direct.containers.list(all=True, filters={"label": KERNEL_ID}, ignore_removed=True)
        return [c for c in found if c.labels.get(KERNEL_ID) in self.kernel_ids]


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import remote_host_or_fail

    yield from remote_host_or_fail(fake_gpu=False)


@pytest.fixture(params=TARGETS)
def target(request, tmp_path, monkeypatch, docker_client, test_image):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-test-{os.getpid()}")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if request.param == "ssh":
        remote = request.getfixturevalue("remote")
        admin_host(tmp_path, monkeypatch, "gpubox", remote.url, remote.ssh_options, remote.remote_socket)
        host, image, direct = Settings.for_process().hosts.get("gpubox"), remote.daemon.test_image, remote.daemon.client
    else:
        Settings.reset()
        host, image, direct = Settings.for_process().hosts.get("local"), test_image, docker_client
    t = Target(request.param, ContainerOps(LOG), host, image, direct)
    yield t
    for kernel_id in t.kernel_ids:
        transport.cancel_forwards(host, kernel_id)
    left = t.ours()
    for c in left:
        c.remove(force=True, v=True)
    if request.param == "ssh":
        ssh.close_all()
    assert not left, f"left behind on {request.param}: {[c.name for c in left]}"


def connection_info() -> dict[str, Any]:
    ports = dict(zip(KERNEL_PORT_NAMES, range(50101, 50106)))
    return {**ports, "ip": "0.0.0.0", "key": uuid.uuid4().hex, "transport": "tcp", "signature_scheme": "hmac-sha256"}


def started(t: Target) -> tuple[Any, Any, LaunchPlan, tuple[str, dict[str, int]]]:
    """create → copy_in → start → address (forwarded for SSH hosts, as the launcher does)."""
    client, mode, plan = t.plan()
    info = connection_info()
    ports = {n: info[n] for n in KERNEL_PORT_NAMES}
    placement = Placement(mode=mode)
    container = t.ops.create(client, plan, placement, ports, "2026-01-01T00:00:00+00:00")
    t.ops.copy_in(container, plan, info)
    t.ops.start(container, plan, t.host)
    address, reached = t.ops.address(container, plan, placement, ports)
    if mode == "tunnel":
        address, reached = transport.forward_ports(t.host, plan.kernel_id, address, reached)
    return client, container, plan, (address, reached)


def answers(address: str, port: int) -> bool:
    deadline = time.monotonic() + ANSWER_SECONDS
    while time.monotonic() < deadline:
        if zmq_answers(address, port):
            return True
        time.sleep(0.3)
    return False


def died(t: Target, client: Any, container_id: str) -> Any:
    """The container once ``state`` no longer says running (ANSWER_SECONDS at most)."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while time.monotonic() < deadline:
        c = t.ops.get(client, container_id)
        if t.ops.state(c) is not None:
            return c
        time.sleep(0.2)
    raise AssertionError(f"container {container_id[:12]} still running {ANSWER_SECONDS}s after SIGKILL")


def test_started_kernel_answers_at_its_address_and_runs(target):
    client, container, plan, (address, ports) = started(target)
    assert answers(address, ports["hb_port"]), target.ops.explain(container, plan.image, "never answered")
    assert answers(address, ports["shell_port"])
    c = target.ops.get(client, container.id)
    assert c.status == "running" and target.ops.state(c) is None
    assert target.ops.network_ip(c, plan.network), "a started container has an address"
    assert c.labels[KERNEL_ID] == plan.kernel_id
    target.ops.remove(c)


def test_sigkill_gives_exit_code_reason_and_log_tail(target):
    client, container, plan, (address, ports) = started(target)
    assert answers(address, ports["hb_port"]), target.ops.explain(container, plan.image, "never answered")
    target.ops.signal(container, signal.SIGKILL)
    c = died(target, client, container.id)
    assert target.ops.state(c) == 137
    death = target.ops.death(c)
    assert death["exit_code"] == 137 and "SIGKILL" in death["reason"] and not death["oom_killed"]
    assert target.ops.daemon_restarted(client, c) is False, "this daemon saw it start and die"
    text = target.ops.explain(c, plan.image, "died")
    assert "exit code 137" in text and "last 30 lines of the container log" in text
    assert f"--existing {plan.connection_file}" in text, "the log tail: ipykernel's own start-up lines"
    target.ops.signal(c, signal.SIGINT)  # a stopped container: ignored
    target.ops.remove(c)


def test_remove_leaves_no_container_and_is_idempotent(target):
    client, container, _plan, _ = started(target)
    target.ops.remove(container)
    assert target.ours() == []
    with pytest.raises(docker.errors.NotFound):
        target.ops.get(client, container.id)
    target.ops.remove(container)  # again: no error
    target.ops.signal(container, signal.SIGTERM)  # a gone container: ignored


def test_failed_create_raises_launch_error_and_leaves_nothing(target):
    client, mode, plan = target.plan()
    broken = replace(plan, memory=1 << 20)  # below the daemon's 6 MB minimum: refused at create
    with pytest.raises(KernelLaunchError, match=plan.image):
        target.ops.create(client, broken, Placement(mode=mode), {"hb_port": 50105}, "2026-01-01T00:00:00+00:00")
    assert target.ours() == []


def test_create_replaces_a_stale_container_of_the_same_kernel(target):
    client, mode, plan = target.plan()
    first = target.ops.create(client, plan, Placement(mode=mode), {}, "2026-01-01T00:00:00+00:00")
    second = target.ops.create(client, plan, Placement(mode=mode), {}, "2026-01-01T00:00:01+00:00")
    assert first.id != second.id
    assert [c.id for c in target.ours()] == [second.id]
    target.ops.remove(second)


def test_copy_in_refuses_a_user_the_image_lacks(target):
    client, mode, plan = target.plan()
    container = target.ops.create(client, replace(plan, user="no-such-user"), Placement(mode=mode), {}, "now")
    try:
        with pytest.raises(SpecError, match="no-such-user"):
            target.ops.copy_in(container, replace(plan, user="no-such-user"), connection_info())
    finally:
        target.ops.remove(container)


def test_reserve_keeps_the_old_container_aside_until_release(target):
    client, mode, plan = target.plan()
    container = target.ops.create(client, plan, Placement(mode=mode), {}, "now")
    target.ops.reserve(container)
    old = target.ops.get(client, container.id)
    assert old.name == plan.container_name + RESERVED_SUFFIX
    target.ops.release(client, "no-such-container")  # nothing to release: no error
    target.ops.release(client, container.id)
    assert target.ours() == []
