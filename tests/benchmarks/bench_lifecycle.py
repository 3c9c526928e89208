"""Benchmark: start/execute/stop cycles leak nothing; concurrent starts and the event loop's lag.

Not a test: it prints figures. It fails (exit 1) only on a leak: its own kernel containers
(by the kernel ids it started), networks or volumes naming one of them, connection files, file
descriptors or threads that *grow per cycle*. One-time growth (the lease renewer thread, the
docker client's connection pool, zmq's context) is measured separately: counts are taken after
a warm-up cycle, after ``--settle`` more cycles and then every ``--every`` cycles; our objects on
the daemon, connection files and threads leak if they grow at all after the settle cycles, fds if
they grow in more than half of the intervals (:func:`leaking`: a bounded pool grows rarely), and
asyncio's default-executor workers (started lazily) only beyond that executor's maximum. Other
engineers' containers on the same daemon are not counted. The second part starts ``--concurrent``
kernels at once through one
``AsyncKernelManager`` loop and reports that loop's lag (a 10 ms ticker's p95 and max delay)
while they start, which is what a Jupyter server's users feel. A watchdog thread samples the
loop thread's stack whenever a tick is ``--stall-ms`` late (once per stall, while it lasts), and
the report names the call the loop was in: the innermost frame of ours
(``jupyter_gpu_kernels``), of jupyter_client/zmq, and the innermost frame overall.

    python -m tests.benchmarks.bench_lifecycle [--image IMAGE] [--cycles 200] [--concurrent 16]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback

import docker
from jupyter_client.manager import AsyncKernelManager, KernelManager

from jupyter_gpu_kernels.daemon.labels import KERNEL_ID
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

TICK = 0.01


OURS: set[str] = set()  # the kernel ids this benchmark started


def _mentions_ours(obj: object) -> bool:
    attrs = getattr(obj, "attrs", {}) or {}
    text = f"{getattr(obj, 'name', '')} {attrs.get('Labels') or {}}"
    return any(k in text for k in OURS)


def _fd_kinds() -> dict[str, int]:
    """This process's fds by kind (socket, anon_inode:[eventpoll], pipe, a file)."""
    kinds: dict[str, int] = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":[")[0] if ":[" in target else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def counts(client: docker.DockerClient, runtime: str) -> dict[str, int]:
    mine = [
        c for c in client.containers.list(all=True, filters={"label": KERNEL_ID}) if c.labels.get(KERNEL_ID) in OURS
    ]
    return {
        "containers": len(mine),
        "networks": sum(map(_mentions_ours, client.networks.list())),
        "volumes": sum(map(_mentions_ours, client.volumes.list())),
        "connection files": len([f for f in os.listdir(runtime) if f.startswith("kernel-")]),
        "fds": len(os.listdir("/proc/self/fd")),
        # asyncio's default executor starts its workers lazily, up to min(32, CPUs + 4): counted apart
        "threads": sum(1 for t in threading.enumerate() if not t.name.startswith("asyncio_")),
        "executor workers": sum(1 for t in threading.enumerate() if t.name.startswith("asyncio_")),
    }


def cycles(name: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        km = KernelManager(kernel_name=name)
        km.start_kernel()
        OURS.add(km.kernel_id)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("x = 6 * 7", timeout=30)
        assert reply["content"]["status"] == "ok", reply
        kc.stop_channels()
        km.shutdown_kernel()
        km.context.term()
        times.append(time.perf_counter() - t0)
    return times


class StallSampler:
    """A thread that samples the loop thread's stack while the loop is ``stall`` seconds late."""

    def __init__(self, stall: float) -> None:
        self.stall = stall
        self.last = time.perf_counter()
        self.samples: list[tuple[float, list[traceback.FrameSummary]]] = []  # (lateness, stack)
        self.others: collections.Counter = collections.Counter()  # what the other threads were in meanwhile
        self.load: list[float] = []  # the machine's 1-minute load average at each sample
        self._tid = threading.get_ident()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-sampler", daemon=True)

    def tick(self) -> None:
        self.last = time.perf_counter()

    def start(self) -> None:
        self.last = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.005):
            late = time.perf_counter() - self.last - TICK
            if late > self.stall:
                frames = sys._current_frames()
                frame = frames.get(self._tid)
                if frame is not None:
                    self.samples.append((late, traceback.extract_stack(frame)))
                    self.load.append(os.getloadavg()[0])
                    for tid, other in frames.items():
                        if tid not in (self._tid, threading.get_ident()):
                            top = traceback.extract_stack(other)[-1]
                            self.others[f"{top.filename.rsplit('site-packages/', 1)[-1]}:{top.lineno} {top.name}"] += 1

    def report(self, top: int = 8) -> list[str]:
        """The calls the loop was in while late, by how often they were sampled."""

        def innermost(stack, *parts: str) -> str:
            for f in reversed(stack):
                if not parts or any(p in f.filename for p in parts):
                    return f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno} {f.name}"
            return "-"

        seen = collections.Counter()
        worst: dict[tuple[str, str, str], float] = {}
        for late, stack in self.samples:
            key = (innermost(stack, "jupyter_gpu_kernels"), innermost(stack, "jupyter_client", "zmq"), innermost(stack))
            seen[key] += 1
            worst[key] = max(worst.get(key, 0.0), late)
        out = [
            f"{len(self.samples)} stack samples while the loop was > {self.stall * 1000:.0f} ms late "
            f"(load average {max(self.load, default=0):.1f} at most, {os.cpu_count()} CPUs)"
        ]
        for key, count in seen.most_common(top):
            out.append(
                f"  {count:3d}x (late up to {worst[key] * 1000:.0f} ms) ours: {key[0]} | "
                f"jupyter_client/zmq: {key[1]} | innermost: {key[2]}"
            )
        out.append(
            "  meanwhile the other threads were in: "
            + "; ".join(f"{where} ({n}x)" for where, n in self.others.most_common(top))
        )
        return out


async def concurrent(name: str, n: int, stall: float = 0.05) -> tuple[float, list[float], StallSampler]:
    lags: list[float] = []
    stop = asyncio.Event()
    sampler = StallSampler(stall)

    async def ticker() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            sampler.tick()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - t0 - TICK)

    sampler.start()
    tick = asyncio.ensure_future(ticker())
    kms = [AsyncKernelManager(kernel_name=name) for _ in range(n)]
    t0 = time.perf_counter()
    await asyncio.gather(*(km.start_kernel() for km in kms))
    OURS.update(km.kernel_id for km in kms)
    started = time.perf_counter() - t0
    stop.set()
    await tick
    sampler.stop()
    await asyncio.gather(*(km.shutdown_kernel(now=True) for km in kms))
    return started, lags, sampler


POOLED = ("fds",)  # grown by bounded pools (docker-py's connections per client)
EXECUTOR_MAX = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default max_workers


def leaking(key: str, series: list[dict[str, int]]) -> bool:
    """Whether ``key`` leaks over the counts taken after the settle cycles. Our objects on the daemon
    (containers, networks, volumes), connection files and threads (other than the executor's):
    any growth. The executor's workers: beyond its maximum. fds: growth in more than half of the
    intervals; docker-py's per-client connection pool opens a connection lazily when calls overlap,
    so it grows now and then up to its size, while a per-cycle leak grows in every interval."""
    if key == "executor workers":
        return series[-1][key] > EXECUTOR_MAX
    grew = sum(1 for a, b in zip(series, series[1:]) if b[key] > a[key])
    if key not in POOLED:
        return grew > 0
    return grew > max(1, (len(series) - 1) // 2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default=os.environ.get("JGK_BENCH_IMAGE", ""))
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--concurrent", type=int, default=16)
    ap.add_argument("--settle", type=int, default=10, help="cycles after warm-up that may still grow caches")
    ap.add_argument("--every", type=int, default=50, help="cycles between two counts after the settle cycles")
    ap.add_argument("--stall-ms", type=float, default=50.0, help="sample the loop's stack when a tick is this late")
    args = ap.parse_args()
    client = docker.from_env()
    image = args.image or next(
        t for i in client.images.list() for t in i.tags if t.startswith("jupyter-gpu-kernels-test:ipykernel-")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for var in ("JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
            os.environ[var] = os.path.join(tmp, var)
            os.makedirs(os.environ[var])
        os.environ["JUPYTER_PATH"] = os.environ["JUPYTER_DATA_DIR"]
        install("bench-life", kernel_json("bench-life", provisioner_config(image=image)), user=True)
        runtime = os.environ["JUPYTER_RUNTIME_DIR"]
        cycles("bench-life", 1)  # warm: network, image probe, caches, worker threads, lease renewer
        warm = counts(client, runtime)
        times = cycles("bench-life", args.settle)
        series = [counts(client, runtime)]  # after the settle cycles, then every --every cycles
        done = args.settle
        while done < args.cycles:
            step = min(args.every, args.cycles - done)
            times += cycles("bench-life", step)
            done += step
            series.append(counts(client, runtime))
        before, after = series[0], series[-1]
        print(
            f"{args.cycles} start/execute/stop cycles: median {statistics.median(times):.2f}s, "
            f"max {max(times):.2f}s, total {sum(times):.0f}s"
        )
        per_cycle = args.cycles - args.settle
        leaks = {k: after[k] - before[k] for k in before if after[k] > before[k] and leaking(k, series)}
        for key in before:
            steps = " ".join(str(c[key]) for c in series)
            print(
                f"  {key:17s} after warm-up {warm[key]:4d}  after {args.settle} cycles {before[key]:4d}  "
                f"after {args.cycles} {after[key]:4d}  (per cycle {(after[key] - before[key]) / per_cycle:+.3f}; "
                f"every {args.every}: {steps})"
            )
        print("  threads now: " + ", ".join(sorted(t.name for t in threading.enumerate())))
        print("  fds now: " + ", ".join(f"{k}={v}" for k, v in sorted(_fd_kinds().items())))
        started, lags, sampler = asyncio.run(concurrent("bench-life", args.concurrent, args.stall_ms / 1000))
        lags.sort()
        p95 = lags[int(0.95 * (len(lags) - 1))] if lags else 0.0
        print(
            f"{args.concurrent} concurrent starts: all ready in {started:.1f}s "
            f"({started / args.concurrent:.2f}s per kernel); event-loop lag p95 {p95 * 1000:.1f} ms, "
            f"max {max(lags, default=0) * 1000:.1f} ms over {len(lags)} ticks"
        )
        print("\n".join(sampler.report()))
        end = counts(client, runtime)
        leaks.update(
            {f"{k} (concurrent)": end[k] - after[k] for k in ("containers", "connection files") if end[k] > after[k]}
        )
    if leaks:
        print(f"LEAKED: {leaks}")
        return 1
    print("no leaks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
