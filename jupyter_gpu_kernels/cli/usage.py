"""``jupyter gpu-kernels usage [--since S] [--host H] [--json]`` and ``logs KERNEL_ID [--tail N]``.

Subcommands of the root app in :mod:`.app`. ``usage`` prints GPU-minutes per kernel, environment
and user (computed by :mod:`..daemon.usage` from container labels and the daemon's events);
``logs`` prints a kernel container's recent stdout/stderr, found by kernel id (or a unique
prefix of it) on every configured host. Both only read.
"""

from __future__ import annotations

import json
import sys

from traitlets import Bool, Int, Unicode

from .base import Command, UsageError, flag, print_table


class UsageApp(Command):
    name = "jupyter-gpu-kernels usage"
    description = """GPU-minutes per kernel, environment and user since --since (default: the last 24 hours),
from the kernel containers' labels and the Docker daemons' start/die events. Running kernels count until now."""
    examples = "jupyter gpu-kernels usage --since 7d\njupyter gpu-kernels usage --since 2024-06-01 --json"

    since = Unicode("", help="epoch seconds, an ISO 8601 time, or a duration such as 90m, 12h, 7d").tag(config=True)
    host = Unicode(None, allow_none=True, help="only this Docker host (default: every configured host)").tag(
        config=True
    )
    json = Bool(False, help="print the figures as JSON").tag(config=True)
    aliases = {**Command.aliases, "since": "UsageApp.since", "host": "UsageApp.host"}
    flags = {**Command.flags, "json": flag("UsageApp", "json", True, "print the figures as JSON")}

    def run(self) -> int:
        from ..daemon.usage import hosts_usage, parse_since

        self.positionals()
        try:
            since = parse_since(self.since)
        except ValueError as e:
            raise UsageError(str(e)) from e
        hosts = [self.settings.hosts.get(self.host)] if self.host else self.settings.hosts.all()
        data = hosts_usage(hosts, since)
        if self.json:
            print(json.dumps(data, indent=1))
            return 0
        for name, error in data["errors"].items():
            print(f"warning: host {name!r} skipped: {error}", file=sys.stderr)
        if not data["kernels"]:
            print("No kernel containers ran in that time.")
            return 0
        print_table(
            [
                [
                    r["kernel_id"][:8],
                    r["host"],
                    r["environment"] or "-",
                    r["user"] or "-",
                    r["gpus"] or "-",
                    f"{r['seconds'] / 60:.1f}",
                    f"{r['gpu_minutes']:.2f}",
                ]
                for r in data["kernels"]
            ],
            ["KERNEL", "HOST", "ENVIRONMENT", "USER", "GPUS", "MINUTES", "GPU-MINUTES"],
        )
        print()
        print_table(
            [[env or "-", f"{m:.2f}"] for env, m in sorted(data["environments"].items())],
            ["ENVIRONMENT", "GPU-MINUTES"],
        )
        print()
        print_table([[user or "-", f"{m:.2f}"] for user, m in sorted(data["users"].items())], ["USER", "GPU-MINUTES"])
        print(f"\ntotal: {data['total_gpu_minutes']:.2f} GPU-minutes")
        return 0


class LogsApp(Command):
    name = "jupyter-gpu-kernels logs"
    usage = "KERNEL_ID [--tail N]"
    description = "The recent stdout/stderr of a kernel's container (the kernel process's own output)."
    examples = "jupyter gpu-kernels logs 1a2b3c4d --tail 50"

    tail = Int(200, help="how many of the last lines to print").tag(config=True)
    aliases = {**Command.aliases, "tail": "LogsApp.tail"}

    def run(self) -> int:
        from ..daemon.labels import KERNEL_ID
        from ..errors import GPUKernelsError
        from ..hosts.transport import connect

        (kernel_id,) = self.positionals("KERNEL_ID")
        if self.tail < 1:
            raise UsageError(f"--tail must be at least 1, not {self.tail}")
        found = []
        for host in self.settings.hosts.all():
            try:
                containers = connect(host).containers.list(all=True, filters={"label": KERNEL_ID}, ignore_removed=True)
            except GPUKernelsError:
                continue
            found += [c for c in containers if (c.labels or {}).get(KERNEL_ID, "").startswith(kernel_id)]
        if len(found) != 1:
            what = "no kernel container" if not found else f"{len(found)} kernel containers"
            raise GPUKernelsError(f"{what} with kernel id {kernel_id!r} on the reachable hosts")
        sys.stdout.write(found[0].logs(stdout=True, stderr=True, tail=self.tail).decode("utf-8", "replace"))
        return 0
