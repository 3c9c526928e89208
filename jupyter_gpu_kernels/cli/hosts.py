"""``jupyter gpu-kernels hosts [list|add|remove|check]``, ``gpus`` and ``doctor``: the Docker hosts.

Subcommands of the root app in :mod:`.app`. ``add``/``remove`` write the user's hosts file through the
hosts registry (:mod:`jupyter_gpu_kernels.hosts.registry`); ``check``, ``gpus`` and ``doctor`` connect
to the hosts' Docker daemons (read only: version, GPU inventory, images).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from traitlets import Bool, Unicode

from .base import Command, UsageError, flag, print_table

# SSH options are admin-only (hosts/registry.py): ``-o ProxyCommand=…`` runs a command, and the
# user's hosts file may be writable by kernel code, so a user host cannot carry them.
SSH_OPTION_REFUSED = (
    "--ssh-option is not available: extra ssh arguments (ProxyCommand, -F, …) can run "
    "commands, so only the administrator's config (c.GPUKernelsHosts.hosts) may set them. "
    "Use --identity-file for a key, and a Host entry in ~/.ssh/config for the rest "
    "(ssh reads it as on the command line)"
)


class HostsListApp(Command):
    name = "jupyter-gpu-kernels hosts list"
    description = "List the Docker hosts: built in, the administrator's and the user's."

    json = Bool(False, help="print the hosts as JSON").tag(config=True)
    flags = {**Command.flags, "json": flag("HostsListApp", "json", True, "print the hosts as JSON")}

    def run(self) -> int:
        self.positionals()
        all_hosts = self.settings.hosts.all()
        if self.json:
            print(json.dumps([{**h.to_json(), "source": h.source} for h in all_hosts], indent=1))
            return 0
        print_table(
            [[h.name, h.url, h.source, h.description] for h in all_hosts], ["NAME", "URL", "SOURCE", "DESCRIPTION"]
        )
        return 0


class HostsAddApp(Command):
    name = "jupyter-gpu-kernels hosts add"
    usage = "NAME URL [--tls-ca F --tls-cert F --tls-key F] [--identity-file F] [--remote-socket PATH]"
    description = """Add a Docker host to the user's hosts file.

URL: ssh://user@host[:port], tcp://host:2376 (with TLS), unix:///path/docker.sock, context://NAME.
Other SSH settings go in ~/.ssh/config (a Host entry for the machine) or the administrator's config."""
    examples = "jupyter gpu-kernels hosts add gpu-box ssh://me@gpu-box"

    tls_ca = Unicode(None, allow_none=True, help="CA certificate of a tcp:// host (TLS)").tag(config=True)
    tls_cert = Unicode(None, allow_none=True, help="client certificate for a tcp:// host (TLS)").tag(config=True)
    tls_key = Unicode(None, allow_none=True, help="client key for a tcp:// host (TLS)").tag(config=True)
    host_description = Unicode("", help="a description shown in the host list").tag(config=True)
    identity_file = Unicode(None, allow_none=True, help="the SSH key file of an ssh:// host").tag(config=True)
    remote_socket = Unicode(
        None, allow_none=True, help="the Docker socket on the SSH host (default /var/run/docker.sock)"
    ).tag(config=True)

    aliases = {
        **Command.aliases,
        "tls-ca": "HostsAddApp.tls_ca",
        "tls-cert": "HostsAddApp.tls_cert",
        "tls-key": "HostsAddApp.tls_key",
        "description": "HostsAddApp.host_description",
        "identity-file": "HostsAddApp.identity_file",
        "remote-socket": "HostsAddApp.remote_socket",
    }

    def parse_command_line(self, argv: Any = None) -> None:
        """``--ssh-option`` (offered by earlier versions) is refused with the reason and what to use."""
        if any(a == "--ssh-option" or a.startswith("--ssh-option=") for a in (sys.argv[1:] if argv is None else argv)):
            raise UsageError(SSH_OPTION_REFUSED)
        super().parse_command_line(argv)

    def run(self) -> int:
        name, url = self.positionals("NAME", "URL")
        options: dict[str, Any] = {}
        if self.identity_file:
            options["identity_file"] = os.path.abspath(os.path.expanduser(self.identity_file))
        if self.remote_socket:
            options["remote_socket"] = self.remote_socket
        host = self.settings.hosts.add(
            name,
            url,
            tls_ca=self.tls_ca,
            tls_cert=self.tls_cert,
            tls_key=self.tls_key,
            description=self.host_description,
            options=options or None,
        )
        print(f"Added host {host.name!r} ({host.url}). Check it with: jupyter gpu-kernels hosts check {host.name}")
        return 0


class HostsRemoveApp(Command):
    name = "jupyter-gpu-kernels hosts remove"
    usage = "NAME"
    description = "Remove a host from the user's hosts file (built-in and administrator hosts stay)."

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        self.settings.hosts.remove(name)
        print(f"Removed host {name!r}")
        return 0


class HostsCheckApp(Command):
    name = "jupyter-gpu-kernels hosts check"
    usage = "NAME [--json]"
    description = "Connect to a host and report its engine, GPU driver and GPUs (exit status 1: not reachable)."

    json = Bool(False, help="print the report as JSON").tag(config=True)
    flags = {**Command.flags, "json": flag("HostsCheckApp", "json", True, "print the report as JSON")}

    def run(self) -> int:
        from ..daemon.status import host_status

        (name,) = self.positionals("NAME")
        status = host_status(self.settings.hosts.get(name), with_gpus=True)
        if self.json:
            print(json.dumps(status, indent=1))
        else:
            for key, value in status.items():
                print(f"{key:>16}: {value}")
        return 0 if status["reachable"] else 1


class HostsApp(HostsListApp):
    name = "jupyter-gpu-kernels hosts"
    description = "Manage the Docker hosts kernels can run on. Without a subcommand: list them."
    subcommands = {
        "list": (HostsListApp, HostsListApp.description),
        "add": (HostsAddApp, "add a host: ssh://user@host, tcp://host:2376 (TLS), unix:///path"),
        "remove": (HostsRemoveApp, HostsRemoveApp.description),
        "check": (HostsCheckApp, "connect and report engine, GPU driver and GPUs"),
    }


class GPUsApp(Command):
    name = "jupyter-gpu-kernels gpus"
    description = "GPU inventory of a host, with the kernels holding each GPU."

    host = Unicode("local", help="the Docker host").tag(config=True)
    json = Bool(False, help="print the inventory as the REST API returns it").tag(config=True)
    aliases = {**Command.aliases, "host": "GPUsApp.host"}
    flags = {**Command.flags, "json": flag("GPUsApp", "json", True, "print the inventory as the REST API returns it")}

    def run(self) -> int:
        from ..daemon.status import gpu_inventory

        self.positionals()
        inv = gpu_inventory(self.settings.hosts.get(self.host))
        if self.json:
            print(json.dumps(inv.to_json(), indent=1))
            return 0
        print(f"host {inv.host}: {inv.status}")
        rows = []
        for g in inv.gpus:
            mem = f"{g.memory_used_mib}/{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "?"
            util = f"{g.utilization_pct}%" if g.utilization_pct is not None else "?"
            held = "; ".join(f"{h.describe()} since {h.started}" for h in g.holders) or "free"
            rows.append([g.index, g.uuid, g.name, mem, util, held])
        if rows:
            print_table(rows, ["IDX", "UUID", "NAME", "MEMORY", "UTIL", "HELD BY"])
        return 0


class DoctorApp(Command):
    name = "jupyter-gpu-kernels doctor"
    description = """Check daemons, GPU drivers, images and hosts; print what to fix.

Exit status 1 if a host is unreachable."""

    host = Unicode(None, allow_none=True, help="check only this host").tag(config=True)
    aliases = {**Command.aliases, "host": "DoctorApp.host"}

    def run(self) -> int:
        from .doctor import run_checks

        self.positionals()
        return run_checks(self.settings.hosts, only=self.host)
