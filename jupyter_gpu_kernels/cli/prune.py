"""``jupyter gpu-kernels prune [--host H] [--dry-run] [--all] [--json]``: remove orphaned kernel containers.

A subcommand of the root app in :mod:`.app`. Lists the kernel containers whose owner (the
server or client process that started them) is gone, with that holder's details, and removes
those whose ``orphan_timeout`` has passed (``--all``: every orphan). The decisions are
:mod:`..daemon.reaper`'s; this module only prints. Touches nothing else.
"""

from __future__ import annotations

import json

from traitlets import Bool, Unicode

from .base import Command, flag, print_table


class PruneApp(Command):
    name = "jupyter-gpu-kernels prune"
    description = """Remove kernel containers whose owner (server or client process) is gone and whose
orphan_timeout has passed; this frees their GPUs. Kernels of a live owner are never touched."""
    examples = "jupyter gpu-kernels prune --dry-run\njupyter gpu-kernels prune --host gpu-box"

    host = Unicode(None, allow_none=True, help="only this Docker host (default: every configured host)").tag(
        config=True
    )
    dry_run = Bool(False, help="list the orphans, remove nothing").tag(config=True)
    all = Bool(False, help="also remove orphans whose orphan_timeout has not passed yet").tag(config=True)
    json = Bool(False, help="print the orphans as JSON").tag(config=True)
    aliases = {**Command.aliases, "host": "PruneApp.host"}
    flags = {
        **Command.flags,
        "dry-run": flag("PruneApp", "dry_run", True, "list the orphans, remove nothing"),
        "all": flag("PruneApp", "all", True, "also remove orphans whose orphan_timeout has not passed yet"),
        "json": flag("PruneApp", "json", True, "print the orphans as JSON"),
    }

    def run(self) -> int:
        from ..daemon.reaper import reap_hosts

        self.positionals()
        hosts = [self.settings.hosts.get(self.host)] if self.host else self.settings.hosts.all()
        orphans, errors = reap_hosts(hosts, dry_run=self.dry_run, force=self.all)
        if self.json:
            print(json.dumps({"orphans": [o.to_json() for o in orphans], "errors": errors}, indent=1))
        elif not orphans:
            print("No orphaned kernel containers.")
        else:
            print_table(
                [
                    [
                        o.record.kernel_id[:8],
                        o.record.host,
                        o.record.container,
                        o.record.gpus or "-",
                        o.record.notebook or o.record.environment or "-",
                        o.holder,
                        f"{o.gone_for:.0f}s/{o.timeout:g}s",
                        "removed" if o.removed else ("due" if o.due else "waiting"),
                    ]
                    for o in orphans
                ],
                ["KERNEL", "HOST", "CONTAINER", "GPUS", "NOTEBOOK", "GONE OWNER", "GONE/TIMEOUT", "ACTION"],
            )
        for name, error in errors.items():
            print(f"warning: host {name!r} not checked: {error}")
        if self.host and errors:
            return 1
        return 0
