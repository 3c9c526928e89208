"""``jupyter gpu-kernels …``: kernelspecs, hosts, GPUs from the terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from jupyter_client.kernelspec import NoSuchKernel

from ..kernel import kernelspecs
from ..errors import GPUKernelsError
from ..hosts.registry import DockerHosts
from ..specs.resources import parse_env_pair


def _hosts() -> DockerHosts:
    """The host registry with the administrator's hosts from the server's config files."""
    from ..policy import server_config

    return DockerHosts(config=server_config())


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


# ---------------------------------------------------------------- kernelspecs
def cmd_install(args: argparse.Namespace) -> int:
    env = dict(parse_env_pair(p) for p in args.env or [])
    config = kernelspecs.provisioner_config(
        image=args.image,
        gpus=args.gpus,
        host=args.host,
        memory=args.memory or "",
        cpus=args.cpus or 0,
        shm_size=args.shm_size or "",
        mounts=args.mount,
        env=env,
        pull_policy=args.pull_policy or "",
        gpu_sharing=args.share_gpus,
    )
    display = args.display_name or f"{args.image} ({'GPU ' + config['gpus'] if config['gpus'] != 'none' else 'CPU'}"
    if not args.display_name:
        display += f" on {args.host})" if args.host != "local" else ")"
    from ..policy import image_policy

    image_policy().check(config["image"])
    spec = kernelspecs.kernel_json(display, config)
    path = kernelspecs.install(args.name, spec, user=args.user, prefix=args.prefix)
    print(f"Installed kernelspec {args.name!r} in {path}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    specs = kernelspecs.ours()
    if args.json:
        print(json.dumps(specs, indent=1))
        return 0
    if not specs:
        print("No gpu-kernels kernelspecs installed. Add one with: jupyter gpu-kernels install NAME --image IMAGE")
        return 0
    rows = []
    for name, info in sorted(specs.items()):
        cfg = info["spec"]["metadata"]["kernel_provisioner"].get("config", {})
        rows.append([name, cfg.get("image", ""), cfg.get("gpus", "none"), cfg.get("host", "local"), info["resource_dir"]])
    _print_table(rows, ["NAME", "IMAGE", "GPUS", "HOST", "PATH"])
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    try:
        path = kernelspecs.remove(args.name)
    except NoSuchKernel:
        print(f"error: no gpu-kernels kernelspec named {args.name!r} (see `jupyter gpu-kernels list`)", file=sys.stderr)
        return 1
    print(f"Removed kernelspec {args.name!r} from {path}")
    return 0


# ---------------------------------------------------------------- hosts
def cmd_hosts(args: argparse.Namespace) -> int:
    hosts = _hosts()
    if args.hosts_cmd == "add":
        options: dict[str, Any] = {}
        if args.ssh_option:
            options["ssh_options"] = args.ssh_option
        if args.remote_socket:
            options["remote_socket"] = args.remote_socket
        host = hosts.add(
            args.name, args.url, tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key,
            description=args.description, options=options or None,
        )
        print(f"Added host {host.name!r} ({host.url}). Check it with: jupyter gpu-kernels hosts check {host.name}")
        return 0
    if args.hosts_cmd == "remove":
        hosts.remove(args.name)
        print(f"Removed host {args.name!r}")
        return 0
    if args.hosts_cmd == "check":
        from ..daemon.status import host_status

        status = host_status(hosts.get(args.name), with_gpus=True)
        if args.json:
            print(json.dumps(status, indent=1))
        else:
            for key, value in status.items():
                print(f"{key:>16}: {value}")
        return 0 if status["reachable"] else 1
    all_hosts = hosts.all()
    if args.json:
        print(json.dumps([{**h.to_json(), "source": h.source} for h in all_hosts], indent=1))
        return 0
    _print_table([[h.name, h.url, h.source, h.description] for h in all_hosts], ["NAME", "URL", "SOURCE", "DESCRIPTION"])
    return 0


# ---------------------------------------------------------------- gpus
def cmd_gpus(args: argparse.Namespace) -> int:
    from ..daemon.status import gpu_inventory

    inv = gpu_inventory(_hosts().get(args.host))
    if args.json:
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
        _print_table(rows, ["IDX", "UUID", "NAME", "MEMORY", "UTIL", "HELD BY"])
    return 0


# ---------------------------------------------------------------- environments
def _environments():  # type: ignore[no-untyped-def]
    from ..environments import Environments
    from ..policy import server_config

    config = server_config()
    return Environments(config=config)


def _env_fields(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ("image", "display_name", "host", "gpus", "memory", "shm_size", "description", "pull_policy"):
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    if args.cpus is not None:
        data["cpus"] = args.cpus
    if args.mount is not None:
        data["mounts"] = args.mount
    if args.env is not None:
        data["env"] = dict(parse_env_pair(p) for p in args.env)
    if args.share_gpus is not None:
        data["gpu_sharing"] = args.share_gpus
    return data


def cmd_envs(args: argparse.Namespace) -> int:
    envs = _environments()
    if args.envs_cmd == "add":
        env = envs.create(args.name, _env_fields(args))
        print(f"Added environment {env.name!r}; it appears in JupyterLab as kernel {env.kernel_name!r} "
              f"(\"{env.kernel_spec().display_name}\")")
        return 0
    if args.envs_cmd == "edit":
        env = envs.update(args.name, _env_fields(args))
        print(f"Updated environment {env.name!r}")
        return 0
    if args.envs_cmd == "from-notebook":
        env = _env_from_notebook(envs, args)
        print(f"Added environment {env.name!r} from {args.notebook} (image {env.image}, GPUs {env.gpus}, host {env.host}); "
              f"the notebook's kernel {env.kernel_name!r} is available again")
        return 0
    if args.envs_cmd == "remove":
        envs.delete(args.name)
        print(f"Removed environment {args.name!r}")
        return 0
    items = envs.all()
    if getattr(args, "json", False):
        print(json.dumps([e.to_json() for e in items], indent=1))
        return 0
    if not items:
        print("No environments. Add one with: jupyter gpu-kernels envs add NAME --image IMAGE [--gpus 1]")
        return 0
    _print_table(
        [[e.name, e.image, e.gpus, e.host, e.memory or "-", e.source] for e in items],
        ["NAME", "IMAGE", "GPUS", "HOST", "MEMORY", "SOURCE"],
    )
    return 0


def _env_from_notebook(envs: Any, args: argparse.Namespace) -> Any:
    """Recreate the environment a notebook ran in, from the definition the sidebar recorded in
    its metadata (``metadata.jupyter_gpu_kernels``): the .ipynb alone is enough."""
    from ..errors import SpecError

    try:
        with open(args.notebook) as f:
            nb = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError(f"cannot read notebook {args.notebook!r}: {e}") from None
    meta = (nb.get("metadata") or {}).get("jupyter_gpu_kernels")
    if not isinstance(meta, dict) or not meta.get("image"):
        raise SpecError(
            f"{args.notebook!r} has no GPU kernel environment in its metadata (metadata.jupyter_gpu_kernels); "
            "it was not run in one, or recording was turned off"
        )
    name = args.name or meta.get("environment")
    data: dict[str, Any] = {k: meta[k] for k in ("image", "host", "gpus", "memory", "cpus", "shm_size",
                                                  "gpu_sharing", "pull_policy", "mounts") if k in meta}
    if args.host:
        data["host"] = args.host
    if args.pin_digest:
        digests = meta.get("image_digests") or []
        if not digests:
            raise SpecError(f"{args.notebook!r} records no image digest to pin (the image was never pushed/pulled)")
        data["image"] = digests[0]
    data["description"] = f"recreated from {os.path.basename(args.notebook)}"
    return envs.create(str(name), data)


# ---------------------------------------------------------------- images, pull, kernels
def cmd_images(args: argparse.Namespace) -> int:
    from ..daemon.images import list_images
    from ..hosts.transport import connect

    images = list_images(connect(_hosts().get(args.host)))
    if args.json:
        print(json.dumps(images, indent=1))
        return 0
    rows = [[", ".join(i["tags"]) or i["id"][7:19], f"{(i['size'] or 0) / 1e6:.0f} MB",
             i["ipykernel_version"] or ("no" if i["has_ipykernel"] is False else "?"), (i["created"] or "")[:19]]
            for i in images]
    _print_table(rows, ["IMAGE", "SIZE", "IPYKERNEL", "CREATED"])
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ..daemon.images import check_image_ref, pull
    from ..policy import image_policy
    from ..hosts.transport import connect

    ref = image_policy().check(check_image_ref(args.image))
    host = _hosts().get(args.host)
    tty = sys.stderr.isatty()

    def progress(msg: str) -> None:
        if tty:
            print("\r\033[K" + msg[:120], end="", file=sys.stderr, flush=True)
        else:
            print(msg, file=sys.stderr)

    pull(connect(host), ref, progress=progress)
    if tty:
        print(file=sys.stderr)
    print(f"Pulled {ref} on host {host.name!r}")
    return 0


def cmd_kernels(args: argparse.Namespace) -> int:
    from ..daemon.status import kernel_rows

    rows = kernel_rows(_hosts().all(), {}, set())
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("No gpu-kernels containers on any reachable host.")
        return 0
    _print_table(
        [[r["kernel_id"][:8], r["host"], r["image"], r["gpus"] or "-", r["notebook"] or "-", r["state"], r["started"]]
         for r in rows],
        ["KERNEL", "HOST", "IMAGE", "GPUS", "NOTEBOOK", "STATE", "STARTED"],
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from ..daemon import workspace
    from ..daemon.inventory import any_image
    from ..hosts.transport import connect

    host = _hosts().get(args.host)
    if host.is_local:
        print(f"error: host {host.name!r} shares this machine's files; nothing to sync", file=sys.stderr)
        return 2
    client = connect(host)
    image = args.image or any_image(client)
    if image is None:
        print(f"error: no image on host {host.name!r} to run the copy with; pull one first", file=sys.stderr)
        return 2
    fn = workspace.push if args.direction == "push" else workspace.pull
    done = fn(client, args.dir, args.paths, image)
    arrow = "→" if args.direction == "push" else "←"
    for rel in done:
        print(f"{rel} {arrow} {host.name}:{workspace.workspace_volume_name(args.dir)}/{rel}")
    return 0


def cmd_copy_image(args: argparse.Namespace) -> int:
    from ..daemon.images import check_image_ref, copy_image
    from ..policy import image_policy
    from ..hosts.transport import connect

    ref = image_policy().check(check_image_ref(args.image))
    hosts = _hosts()
    src, dst = hosts.get(args.source), hosts.get(args.to)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int | None) -> None:
        text = f"copying {ref} {src.name} → {dst.name}: {done / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "") + " MB"
        print(("\r\033[K" if tty else "") + text, end="" if tty else "\n", file=sys.stderr, flush=True)

    copy_image(connect(src), connect(dst), ref, progress=progress)
    if tty:
        print(file=sys.stderr)
    print(f"Copied {ref} from {src.name!r} to {dst.name!r}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    return run_checks(_hosts(), only=args.host)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jupyter gpu-kernels", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("install", help="write a kernelspec that runs in a Docker container")
    s.add_argument("name")
    s.add_argument("--image", required=True)
    s.add_argument("--gpus", default="none", help="none | all | N | device=0,2 | device=GPU-… | nvidia.com/gpu=0")
    s.add_argument("--host", default="local")
    s.add_argument("--display-name")
    s.add_argument("--memory")
    s.add_argument("--cpus", type=float)
    s.add_argument("--shm-size")
    s.add_argument("--mount", action="append", metavar="SRC:DST[:ro]")
    s.add_argument("--env", action="append", metavar="K=V")
    s.add_argument("--pull-policy", choices=["missing", "always", "never"])
    s.add_argument("--share-gpus", action="store_true", help="allow GPUs held by other kernels")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="install into sys.prefix")
    where.add_argument("--prefix", help="install under this prefix")
    s.set_defaults(func=cmd_install)

    s = sub.add_parser("list", help="list installed gpu-kernels kernelspecs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("remove", help="remove a gpu-kernels kernelspec")
    s.add_argument("name")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("hosts", help="manage Docker hosts")
    hs = s.add_subparsers(dest="hosts_cmd")
    a = hs.add_parser("add", help="add a host: ssh://user@host, tcp://host:2376 (TLS), unix:///path")
    a.add_argument("name")
    a.add_argument("url")
    a.add_argument("--tls-ca")
    a.add_argument("--tls-cert")
    a.add_argument("--tls-key")
    a.add_argument("--description", default="")
    a.add_argument("--ssh-option", action="append", default=[], metavar="OPT",
                   help="extra argument for ssh, e.g. --ssh-option=-F --ssh-option=/path/ssh_config")
    a.add_argument("--remote-socket", help="Docker socket on the SSH host (default /var/run/docker.sock)")

    r = hs.add_parser("remove")
    r.add_argument("name")
    c = hs.add_parser("check", help="connect and report engine, GPU driver and GPUs")
    c.add_argument("name")
    c.add_argument("--json", action="store_true")
    ls = hs.add_parser("list")
    ls.add_argument("--json", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_hosts)

    s = sub.add_parser("envs", help="manage environments (image + GPUs + host + limits), shown as kernels")
    es = s.add_subparsers(dest="envs_cmd")
    for verb in ("add", "edit"):
        e = es.add_parser(verb)
        e.add_argument("name")
        e.add_argument("--image", required=verb == "add")
        e.add_argument("--display-name", dest="display_name")
        e.add_argument("--host")
        e.add_argument("--gpus")
        e.add_argument("--memory")
        e.add_argument("--cpus", type=float)
        e.add_argument("--shm-size", dest="shm_size")
        e.add_argument("--mount", action="append", metavar="SRC:DST[:ro]")
        e.add_argument("--env", action="append", metavar="K=V")
        e.add_argument("--pull-policy", dest="pull_policy", choices=["missing", "always", "never"])
        e.add_argument("--share-gpus", dest="share_gpus", action=argparse.BooleanOptionalAction, default=None)
        e.add_argument("--description")
    r = es.add_parser("remove")
    r.add_argument("name")
    fn = es.add_parser("from-notebook", help="recreate the environment a notebook ran in, from its metadata")
    fn.add_argument("notebook")
    fn.add_argument("--name", help="environment name (default: the recorded one)")
    fn.add_argument("--host", help="run it on another host than the recorded one")
    fn.add_argument("--pin-digest", action="store_true", help="use the recorded image digest (repo@sha256:…)")
    ls = es.add_parser("list")
    ls.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_envs)

    s = sub.add_parser("images", help="images on a host, marking those with ipykernel")
    s.add_argument("--host", default="local")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_images)

    s = sub.add_parser("pull", help="pull an image on a host, with progress")
    s.add_argument("image")
    s.add_argument("--host", default="local")
    s.set_defaults(func=cmd_pull)

    s = sub.add_parser("kernels", help="our running kernel containers on every reachable host")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_kernels)

    s = sub.add_parser("sync", help="copy files between a notebook directory and its workspace on a remote host")
    s.add_argument("direction", choices=["push", "pull"])
    s.add_argument("paths", nargs="+", help="files or folders, relative to --dir")
    s.add_argument("--host", required=True)
    s.add_argument("--dir", default=".", help="the notebook directory (default: current directory)")
    s.add_argument("--image", help="image to run the copy with (default: any image on the host)")
    s.set_defaults(func=cmd_sync)

    s = sub.add_parser("copy-image", help="copy an image from one host to another (docker save | docker load)")
    s.add_argument("image")
    s.add_argument("--to", required=True, help="destination host")
    s.add_argument("--from", dest="source", default="local", help="source host (default: local)")
    s.set_defaults(func=cmd_copy_image)

    s = sub.add_parser("doctor", help="check daemons, GPU drivers, images and hosts; print what to fix")
    s.add_argument("--host", help="check only this host")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("gpus", help="GPU inventory of a host, with the kernels holding each GPU")
    s.add_argument("--host", default="local")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_gpus)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "sys_prefix", False):
        args.prefix = sys.prefix
    if args.cmd == "hosts" and args.hosts_cmd is None:
        args.hosts_cmd = "list"
    if args.cmd == "envs" and args.envs_cmd is None:
        args.envs_cmd = "list"
    try:
        return int(args.func(args) or 0)
    except GPUKernelsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
