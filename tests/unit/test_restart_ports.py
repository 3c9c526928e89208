"""Which ports a restarted kernel binds in its container (``LaunchResult.kernel_ports``), as pure data.

With SSH forwards (and remote publishes) the kernel manager holds the ports the server connects to,
not the container's; a same-ports restart must give the container its own ports again, never the
server's numbers (end to end: tests/test_remote_restart.py).
"""

from jupyter_gpu_kernels.daemon.plan import LaunchResult

LOCAL = {"shell_port": 40001, "iopub_port": 40003, "stdin_port": 40005, "control_port": 40007, "hb_port": 40009}
INSIDE = {"shell_port": 50001, "iopub_port": 50003, "stdin_port": 50005, "control_port": 50007, "hb_port": 50009}


def _result(mode: str) -> LaunchResult:
    return LaunchResult(
        container_id="c", host="h", mode=mode, address="127.0.0.1", ports=dict(LOCAL), container_ports=dict(INSIDE)
    )


def test_a_same_ports_restart_through_forwards_gets_the_containers_own_ports():
    assert _result("tunnel").kernel_ports(dict(LOCAL)) == INSIDE
    assert _result("remote-publish").kernel_ports(dict(LOCAL)) == INSIDE


def test_new_ports_are_used_as_they_are():
    fresh = {k: v + 2 for k, v in LOCAL.items()}
    assert _result("tunnel").kernel_ports(fresh) == fresh


def test_direct_and_publish_modes_keep_the_kernel_managers_ports():
    # there the kernel manager's ports are the container's (direct) or the published loopback ones
    assert _result("direct").kernel_ports(dict(LOCAL)) == LOCAL
    assert _result("publish").kernel_ports(dict(LOCAL)) == LOCAL
