"""Extra Docker daemons, each in its own network namespace (root only).

A second ``dockerd`` in the host network namespace would delete the host's ``docker0`` and break
the main daemon, so every extra daemon gets a namespace ``jgk-<name>``::

    host  jgk<k>h 10.213.<k>.1/24  <-- veth -->  jgk<k>n 10.213.<k>.2/24  (netns jgk-<name>)
                                                  docker0 172.29.<k>.1/24  (the daemon's --bip)
    host routes: 172.29.<k>.0/24 and 10.214.<k>.0/24 via 10.213.<k>.2

so host processes reach the containers of that daemon directly at their bridge IPs, just as they
do for the main daemon (the provisioner connects to the container's bridge IP for a local daemon).
User-defined networks of that daemon come from ``10.214.<k>.0/24`` (/28 each), also routed.

With ``fake_gpu=True``, ``tests/support/fake_nvidia`` is first on dockerd's PATH, so the daemon
registers the "nvidia" device driver and GPU requests go through the real dockerd -> runc ->
prestart-hook path (see fake_nvidia/nvidia-container-runtime-hook). Without it, a GPU request fails
at container start with ``could not select device driver "" with capabilities: [[gpu]]``.

Usage::

    d = NetnsDaemon("fakegpu", fake_gpu=True, subnet_index=1)   # starts it and loads test images
    d.url, d.client, d.test_image, d.plain_image, d.bridge_gateway
    d.set_fake_gpus([...])      # change what the fake nvidia-smi reports in containers started next
    d.hook_invocations()        # what the fake hook saw, one dict per container start
    d.ns_run(["ip", "addr"])    # run a command inside the namespace (e.g. an sshd for a fake remote)
    d.restart_dockerd()         # stop only dockerd (its containers stop), start it again on the same state
    d.stop()

Leftovers of a crashed run with the same name/index (dockerd, containerd, mounts, veth, routes,
netns) are removed before starting. The data root (``/var/lib/jgk-test/<name>``) is kept between
runs by default (``keep_data=True``) so images need not be re-imported; containers in it are removed
on start and stop.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ._util import (
    SYSTEM_PATH,
    is_root,
    kill_pid,
    log,
    pid_alive,
    pid_cmdline,
    read_pidfile,
    run,
    tail,
    unmount_under,
    which,
)

RUN_DIR = Path("/run/jgk-test")
DATA_BASE = Path(os.environ.get("JGK_TEST_NETNS_DATA", "/var/lib/jgk-test"))
FAKE_NVIDIA_DIR = Path(__file__).resolve().parent / "fake_nvidia"
START_TIMEOUT = 90.0


class NetnsDaemonError(RuntimeError):
    pass


class NetnsDaemonBusy(NetnsDaemonError):
    """The subnet slot is held by another live process (e.g. a concurrent test session)."""


def first_free_slot(factory, base_name: str, first_index: int, tries: int = 8):
    """``factory(name, subnet_index)`` in the first free slot: ``base_name``/``first_index``, then
    ``base_name-2``/``first_index+10``, ... (so concurrent test sessions do not collide)."""
    last = None
    for i in range(tries):
        name = base_name if i == 0 else f"{base_name}-{i + 1}"
        try:
            return factory(name, first_index + 10 * i)
        except NetnsDaemonBusy as e:
            log(str(e))
            last = e
    raise NetnsDaemonError(f"no free slot for {base_name!r} after {tries} tries: {last}")


def start_netns_daemon(base_name: str, *, fake_gpu: bool, first_index: int, tries: int = 8, **kw) -> NetnsDaemon:
    return first_free_slot(
        lambda name, k: NetnsDaemon(name, fake_gpu=fake_gpu, subnet_index=k, **kw), base_name, first_index, tries
    )


def _ip(*args, check=True, ns: str | None = None):
    argv = ["ip", *args]
    if ns:
        argv = ["nsenter", f"--net=/var/run/netns/{ns}", *argv]
    return run(argv, check=check, capture=True, quiet=True)


class NetnsDaemon:
    def __init__(
        self,
        name: str,
        *,
        fake_gpu: bool = False,
        subnet_index: int = 1,
        keep_data: bool = True,
        load_images: bool = True,
        start: bool = True,
        extra_dockerd_args: list[str] | tuple[str, ...] = (),
    ):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,19}", name):
            raise ValueError(f"bad daemon name {name!r} (lowercase letters, digits, '-', at most 20 chars)")
        if not 1 <= subnet_index <= 250:
            raise ValueError("subnet_index must be in 1..250")
        k = subnet_index
        self.name = name
        self.extra_dockerd_args = list(extra_dockerd_args)
        self.fake_gpu = fake_gpu
        self.subnet_index = k
        self.keep_data = keep_data
        self.netns = f"jgk-{name}"
        self.netns_path = f"/var/run/netns/{self.netns}"
        self.veth_host = f"jgk{k}h"
        self.veth_ns = f"jgk{k}n"
        self.host_ip = f"10.213.{k}.1"  # host end of the veth
        self.ns_ip = f"10.213.{k}.2"  # namespace end of the veth (the daemon's "host" address)
        self.bridge_subnet = f"172.29.{k}.0/24"
        self.bridge_gateway = f"172.29.{k}.1"
        self.pool_subnet = f"10.214.{k}.0/24"
        self.routed_subnets = [self.bridge_subnet, self.pool_subnet]
        self.sock = RUN_DIR / f"{name}.sock"
        self.url = f"unix://{self.sock}"
        self.exec_root = RUN_DIR / f"{name}.exec"
        self.pidfile = RUN_DIR / f"{name}.pid"
        self.data_root = DATA_BASE / name
        self.log_path = Path(f"/tmp/jgk-test-{name}-dockerd.log")
        self.hook_log = RUN_DIR / f"{name}.fake-nvidia-hook.log"
        self.gpus_file = RUN_DIR / f"{name}.fake-gpus.json"
        self.cgroup_parent = f"jgk-test-{name}"  # all its containers' cgroups live below /<this>
        self.proc: subprocess.Popen | None = None
        self.client = None
        self.test_image: str | None = None
        self.plain_image: str | None = None
        if start:
            self.start(load_images=load_images)

    # ------------------------------------------------------------------ lifecycle
    def start(self, load_images: bool = True, owner_pid: int | None = None) -> NetnsDaemon:
        self._preflight()
        self._claim(owner_pid or os.getpid())  # raises NetnsDaemonBusy before touching anything
        try:
            self._cleanup(stale=True)
            self._setup_network()
            self._start_dockerd()
            import docker

            self.client = docker.DockerClient(base_url=self.url, timeout=300)
            self._remove_all_containers()
            if load_images:
                from .image import ensure_plain_image, ensure_test_image

                self.test_image = ensure_test_image(self.client)
                self.plain_image = ensure_plain_image(self.client)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop dockerd and remove everything this daemon set up (idempotent)."""
        if self.client is not None:
            try:
                self._remove_all_containers()
            except Exception as e:
                log(f"[{self.name}] could not remove containers before stopping: {e}")
            try:
                self.client.close()
            except Exception:
                pass
            self.client = None
        self._cleanup(stale=False)
        self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"NetnsDaemon({self.name!r}, fake_gpu={self.fake_gpu}, url={self.url!r})"

    # ------------------------------------------------------------------ helpers for tests
    def ns_run(self, argv, **kw):
        """Run ``argv`` inside the daemon's network namespace (returns CompletedProcess)."""
        return subprocess.run(["nsenter", f"--net={self.netns_path}", *argv], **kw)

    def ns_popen(self, argv, **kw) -> subprocess.Popen:
        return subprocess.Popen(["nsenter", f"--net={self.netns_path}", *argv], **kw)

    def set_fake_gpus(self, gpus: list[dict] | None) -> None:
        """Replace the fake GPU table (list of dicts as in fake_nvidia/gpus.json); None = default.
        Takes effect for containers started afterwards (the hook reads it at each start)."""
        src = FAKE_NVIDIA_DIR / "gpus.json"
        data = json.loads(src.read_text()) if gpus is None else gpus
        tmp = self.gpus_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.gpus_file)

    def hook_invocations(self) -> list[dict]:
        """One dict per prestart-hook run on this daemon: id, NVIDIA_VISIBLE_DEVICES, visible, ..."""
        try:
            return [json.loads(ln) for ln in self.hook_log.read_text().splitlines() if ln.strip()]
        except OSError:
            return []

    def stop_dockerd(self) -> None:
        """Stop only dockerd (SIGTERM, as ``systemctl stop docker`` does: it stops its containers and
        its managed containerd); the data root, containerd's state, the netns and routes stay."""
        pid = self.proc.pid if self.proc is not None else read_pidfile(self.pidfile)
        if pid and pid_alive(pid):
            kill_pid(pid, timeout=30, name=f"dockerd[{self.name}]")
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def start_dockerd(self) -> None:
        """Start dockerd again after :meth:`stop_dockerd` or a SIGKILL (same data root, fake GPU table
        and hook log)."""
        self._forget_dead_containerd()
        self._start_dockerd(fresh=False)

    def _forget_dead_containerd(self) -> None:
        """Remove the managed containerd's pid file if that process is dead or a zombie.

        A SIGKILLed dockerd takes its managed containerd with it (parent-death signal); until this
        machine's init reaps it, the zombie still answers ``kill(pid, 0)``, so a new dockerd takes it
        for a running containerd, dials its socket and gives up ("timeout waiting for containerd to
        start"). On a real host systemd reaps at once; here init may lag."""
        pidfile = self.exec_root / "containerd" / "containerd.pid"
        cpid = read_pidfile(pidfile)
        if cpid and not pid_alive(cpid):
            log(f"[{self.name}] containerd (pid {cpid}) is gone; removing its pid file")
            pidfile.unlink(missing_ok=True)

    def restart_dockerd(self) -> None:
        self.stop_dockerd()
        self.start_dockerd()

    # ------------------------------------------------------------------ internals
    def _preflight(self) -> None:
        if not is_root():
            raise NetnsDaemonError(f"NetnsDaemon needs root (uid is {os.geteuid()})")
        missing = [t for t in ("dockerd", "ip", "nsenter") if which(t) is None]
        if missing:
            raise NetnsDaemonError(
                f"NetnsDaemon needs {', '.join(missing)} (apt-get install docker.io iproute2 util-linux)"
            )
        if not self.fake_gpu:
            for d in SYSTEM_PATH.split(":"):
                if os.path.exists(os.path.join(d, "nvidia-container-runtime-hook")):
                    log(
                        f"[{self.name}] note: a real nvidia-container-runtime-hook is in {d}; this daemon will have a GPU driver"
                    )
        # the subnets must not collide with anything routed on the host (except our own stale routes)
        routes = _ip("-4", "route", "show").stdout.splitlines()
        mine = {self.bridge_subnet, self.pool_subnet, f"10.213.{self.subnet_index}.0/24"}
        for line in routes:
            dest = line.split()[0]
            if dest == "default" or f"dev {self.veth_host}" in line:
                continue
            try:
                net = ipaddress.ip_network(dest, strict=False)
            except ValueError:
                continue
            for m in mine:
                if net.overlaps(ipaddress.ip_network(m)) and net.prefixlen >= 8:
                    raise NetnsDaemonError(
                        f"subnet {m} for NetnsDaemon {self.name!r} overlaps the host route {line!r}; "
                        f"pick another subnet_index"
                    )

    @property
    def _slot_file(self) -> Path:
        return RUN_DIR / f"slot-{self.subnet_index}.owner"

    def _claim(self, owner_pid: int) -> None:
        """Reserve subnet slot k for this process; a slot whose owner process is gone is stale."""
        import fcntl

        RUN_DIR.mkdir(parents=True, exist_ok=True)
        with open(RUN_DIR / ".slots.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                owner = json.loads(self._slot_file.read_text())
            except (OSError, ValueError):
                owner = None
            if owner and owner.get("pid") not in (os.getpid(), owner_pid) and pid_alive(int(owner.get("pid", 0))):
                raise NetnsDaemonBusy(
                    f"subnet slot {self.subnet_index} is in use by daemon {owner.get('name')!r} of live pid {owner['pid']}"
                )
            if owner and owner.get("name") and owner["name"] != self.name:
                log(f"[{self.name}] slot {self.subnet_index} was left by daemon {owner['name']!r}; cleaning it up")
                NetnsDaemon(owner["name"], subnet_index=self.subnet_index, keep_data=True, start=False)._cleanup(
                    stale=True
                )
            self._slot_file.write_text(json.dumps({"pid": owner_pid, "name": self.name}))

    def _release(self) -> None:
        try:
            owner = json.loads(self._slot_file.read_text())
        except (OSError, ValueError):
            return
        if owner.get("name") == self.name:
            self._slot_file.unlink(missing_ok=True)

    def _cleanup(self, stale: bool) -> None:
        what = "stale leftovers of" if stale else "stopping"
        # dockerd
        if self.proc is not None:
            pid = self.proc.pid  # ours for sure (nsenter exec'ed dockerd)
        else:
            pid = read_pidfile(self.pidfile)
            if pid and not os.path.basename((pid_cmdline(pid) or [""])[0]).startswith("dockerd"):
                pid = None  # pid reused by something else
        if pid and pid_alive(pid):
            log(f"[{self.name}] {what}: dockerd pid {pid}")
            kill_pid(pid, timeout=30, name=f"dockerd[{self.name}]")
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        # its managed containerd (normally stopped by dockerd; not after a SIGKILL)
        cpid = read_pidfile(self.exec_root / "containerd" / "containerd.pid")
        if cpid and pid_alive(cpid) and "containerd" in " ".join(pid_cmdline(cpid)[:1]):
            kill_pid(cpid, timeout=15, name=f"containerd[{self.name}]")
        self._kill_shims()
        self._kill_cgroup(self.cgroup_parent)
        unmount_under(str(self.exec_root))
        unmount_under(str(self.data_root))
        # network
        for subnet in self.routed_subnets:
            _ip("route", "del", subnet, check=False)
        _ip("link", "del", self.veth_host, check=False)
        if os.path.exists(self.netns_path) or self.netns in _ip("netns", "list", check=False).stdout.split():
            _ip("netns", "del", self.netns, check=False)
        # files
        for p in (self.sock, self.pidfile):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        shutil.rmtree(self.exec_root, ignore_errors=True)
        if not self.keep_data:
            shutil.rmtree(self.data_root, ignore_errors=True)

    def _kill_shims(self) -> None:
        """containerd-shim processes of this daemon survive a SIGKILLed dockerd; end them (ours only)."""
        marker = str(self.exec_root)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            argv = pid_cmdline(int(entry))
            if argv and "containerd-shim" in os.path.basename(argv[0]) and any(marker in a for a in argv):
                kill_pid(int(entry), timeout=5, name=f"containerd-shim[{self.name}]")

    @staticmethod
    def _kill_cgroup(name: str) -> None:
        """SIGKILL every process in cgroup ``/<name>`` (all hierarchies) and remove the cgroups.

        Container processes of a dockerd that died with SIGKILL keep running; ours all live below
        our own ``--cgroup-parent``, so this ends exactly them."""
        import signal

        bases = []
        try:
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    left, _, right = line.partition(" - ")
                    if right.split()[0] in ("cgroup", "cgroup2"):
                        bases.append(left.split()[4])
        except OSError:
            return
        for base in bases:
            top = os.path.join(base, name)
            if not os.path.isdir(top):
                continue
            dirs = [d for d, _, _ in os.walk(top)]
            for _ in range(3):
                pids = set()
                for d in dirs:
                    try:
                        pids |= {int(x) for x in Path(d, "cgroup.procs").read_text().split()}
                    except (OSError, ValueError):
                        pass
                if not pids:
                    break
                log(f"killing {len(pids)} orphaned container process(es) in cgroup {top}")
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.3)
            for d in sorted(dirs, key=len, reverse=True):
                try:
                    os.rmdir(d)
                except OSError:
                    pass

    def _setup_network(self) -> None:
        k = self.subnet_index
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        _ip("netns", "add", self.netns)
        _ip("link", "add", self.veth_host, "type", "veth", "peer", "name", self.veth_ns)
        _ip("link", "set", self.veth_ns, "netns", self.netns)
        _ip("addr", "add", f"{self.host_ip}/24", "dev", self.veth_host)
        _ip("link", "set", self.veth_host, "up")
        _ip("link", "set", "lo", "up", ns=self.netns)
        _ip("addr", "add", f"{self.ns_ip}/24", "dev", self.veth_ns, ns=self.netns)
        _ip("link", "set", self.veth_ns, "up", ns=self.netns)
        _ip("route", "add", "default", "via", self.host_ip, ns=self.netns)
        run(["nsenter", f"--net={self.netns_path}", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"], quiet=True)
        for subnet in self.routed_subnets:
            _ip("route", "replace", subnet, "via", self.ns_ip, "dev", self.veth_host)
        log(
            f"[{self.name}] netns {self.netns}: {self.veth_host} {self.host_ip} <-> {self.veth_ns} {self.ns_ip}; "
            f"routes {', '.join(self.routed_subnets)} via {self.ns_ip} (k={k})"
        )

    def _start_dockerd(self, fresh: bool = True) -> None:
        dockerd = which("dockerd")
        path = SYSTEM_PATH
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "NVIDIA_"))}
        if self.fake_gpu:
            path = f"{FAKE_NVIDIA_DIR}:{path}"
            env["FAKE_NVIDIA_HOOK_LOG"] = str(self.hook_log)
            env["FAKE_NVIDIA_GPUS_FILE"] = str(self.gpus_file)
            if fresh:
                self.hook_log.write_text("")
                self.set_fake_gpus(None)
            for f in ("nvidia-container-runtime-hook", "nvidia-smi"):
                (FAKE_NVIDIA_DIR / f).chmod(0o755)
        env["PATH"] = path
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.exec_root.mkdir(parents=True, exist_ok=True)
        argv = [
            "nsenter",
            f"--net={self.netns_path}",
            dockerd,
            "--host",
            self.url,
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--pidfile",
            str(self.pidfile),
            "--bip",
            f"{self.bridge_gateway}/24",
            "--default-address-pool",
            f"base={self.pool_subnet},size=28",
            "--iptables=false",
            "--cgroup-parent",
            f"/{self.cgroup_parent}",
            "--containerd-namespace",
            f"jgk-{self.name}",
            "--containerd-plugins-namespace",
            f"jgk-{self.name}-plugins",
            *self.extra_dockerd_args,
        ]
        log(f"[{self.name}] starting dockerd in netns {self.netns} (fake_gpu={self.fake_gpu}; log: {self.log_path})")
        with open(self.log_path, "ab") as logf:
            logf.write(f"\n==== {time.strftime('%F %T')} {' '.join(argv)}\n".encode())
            logf.flush()
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        from .dockerd import ping

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NetnsDaemonError(
                    f"dockerd[{self.name}] exited with {self.proc.returncode}; last log lines:\n{tail(self.log_path)}"
                )
            if self.sock.exists() and ping(self.url, timeout=5)[0]:
                log(f"[{self.name}] dockerd up at {self.url} (pid {self.proc.pid})")
                return
            time.sleep(0.5)
        raise NetnsDaemonError(
            f"dockerd[{self.name}] did not answer within {START_TIMEOUT:.0f}s; log:\n{tail(self.log_path)}"
        )

    def _remove_all_containers(self) -> None:
        for c in self.client.containers.list(all=True):
            try:
                c.remove(force=True, v=True)
            except Exception as e:  # already gone, removal in progress, ...
                log(f"[{self.name}] could not remove container {c.short_id}: {e}")


def _main(argv: list[str]) -> int:
    """``python -m tests.support.netns_daemon up NAME [--fake-gpu] [--index K]`` / ``down NAME [--index K]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.support.netns_daemon")
    p.add_argument("cmd", choices=["up", "down"])
    p.add_argument("name")
    p.add_argument("--fake-gpu", action="store_true")
    p.add_argument("--index", type=int, default=1)
    a = p.parse_args(argv)
    if a.cmd == "up":
        d = NetnsDaemon(a.name, fake_gpu=a.fake_gpu, subnet_index=a.index)
        d._slot_file.write_text(json.dumps({"pid": d.proc.pid, "name": d.name}))  # owned by dockerd itself
        d.proc = None  # leave it running after we exit
        print(d.url)
    else:
        NetnsDaemon(a.name, subnet_index=a.index, start=False).stop()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
