"""REST handlers for builds, commits and exports.

Every method is ``@web.authenticated`` and ``@authorized`` (as :mod:`.base` says); exported as
``default_handlers`` for :mod:`.routes`, under ``<base_url>gpu-kernels/api/``:

- ``POST hosts/{host}/images/build`` ``{"path", "tag", "dockerfile"?, "build_args"?, "overwrite"?}``:
  ``path`` is a directory under the server's root (anything else is refused with 403); the tag is
  checked against the allowlist and the host's images first; 202 with a pollable build;
- ``GET hosts/{host}/images/builds/{id}``: its status, step n/m, last log lines, error;
- ``POST kernels/{id}/commit`` ``{"tag", "message"?, "overwrite"?}``: a kernel of this server only
  (404 otherwise); 201 with the image and the ``docker diff`` summary;
- ``GET environments/{name}/export?format=run|compose|dockerfile|json``: ``{"format", "text", "image"}``.

Builds run in worker threads (:class:`.builds.BuildTracker`, in :class:`.services.Services`), kept
in memory (the last 50). Docker calls go
through :mod:`jupyter_gpu_kernels.hosts.transport`, :mod:`jupyter_gpu_kernels.daemon.builds` and
:mod:`jupyter_gpu_kernels.daemon.commits`.
"""

from __future__ import annotations

import asyncio
import os

from tornado import web

from ..daemon.builds import build_image, check_context, check_new_tag, parse_build_args
from ..daemon.images import check_image_ref
from ..errors import SpecError
from ..hosts.transport import connect
from .base import NAME, BaseHandler, authorized, route
from .builds import Build


def under_root(root: str, path: object) -> str:
    """``path`` (relative to the server root, or absolute) as a real directory inside ``root``; 403 if not."""
    if not isinstance(path, str) or not path.strip():
        raise SpecError("a build needs the context directory: 'path', relative to the server root", field="path")
    real_root = os.path.realpath(root)
    path = path.strip()
    full = os.path.realpath(path if os.path.isabs(path) else os.path.join(real_root, path))
    if os.path.commonpath([real_root, full]) != real_root:
        raise web.HTTPError(403, f"build context {path!r} is outside the server root; only directories under it")
    return full


class BuildHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        h = self.host_or_404(host)
        body = self.json_body()
        root = self.settings.get("server_root_dir") or os.getcwd()
        path = under_root(root, body.get("path"))
        dockerfile = body.get("dockerfile") or None
        args = body.get("build_args") or {}
        if not isinstance(args, dict):
            raise SpecError("build_args must be an object of NAME: value", field="build_args")
        build_args = parse_build_args(f"{k}={v}" for k, v in args.items())
        if dockerfile and (
            not isinstance(dockerfile, str) or os.path.isabs(dockerfile) or ".." in dockerfile.split("/")
        ):
            raise SpecError("dockerfile must be a path inside the build context", field="dockerfile")
        await asyncio.to_thread(check_context, path, dockerfile)
        self.services.policy.check(check_image_ref(body.get("tag")))
        client = await asyncio.to_thread(connect, h)
        tag = await asyncio.to_thread(
            check_new_tag, client, body["tag"], overwrite=bool(body.get("overwrite")), host_name=h.name
        )

        def run(b: Build) -> None:
            def on_step(n: int, m: int) -> None:
                b.step, b.steps = n, m

            outcome = build_image(
                client, path, tag, dockerfile=dockerfile, build_args=build_args, progress=b.log.append, on_step=on_step
            )
            b.image_id = outcome.image_id

        b = self.services.builds.start(h, path, tag, run)
        self.location("hosts", h.name, "images", "builds", b.id)
        self.write_json(b.to_json(), status=202)


class BuildStatusHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, build_id: str) -> None:
        b = self.services.builds.get(build_id)
        if b is None or b.host != host:
            raise web.HTTPError(404, f"no build {build_id!r} on host {host!r}")
        self.write_json(b.to_json())


class CommitHandler(BaseHandler):
    auth_resource = "kernels"  # committing a kernel's container: "write" on kernels

    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        from ..daemon.commits import commit_kernel

        if kernel_id not in self.kernel_manager.list_kernel_ids():
            raise web.HTTPError(404, f"no kernel {kernel_id!r} on this server")
        prov = getattr(self.kernel_manager.get_kernel(kernel_id), "provisioner", None)
        container_id = getattr(prov, "container_id", None)
        if not container_id:
            raise web.HTTPError(404, f"kernel {kernel_id!r} has no running container to commit")
        body = self.json_body()
        self.services.policy.check(check_image_ref(body.get("tag")))
        h = self.host_or_404(prov.host)
        client = await asyncio.to_thread(connect, h)
        tag = await asyncio.to_thread(
            check_new_tag, client, body["tag"], overwrite=bool(body.get("overwrite")), host_name=h.name
        )
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise SpecError("message must be a string", field="message")
        container = await asyncio.to_thread(client.containers.get, container_id)
        outcome = await asyncio.to_thread(commit_kernel, client, container, tag, message=message)
        self.write_json({**outcome.to_json(), "host": h.name}, status=201)


class ExportHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        from ..environments.export import export, pinned_image

        env = self.environments.get(name)
        fmt = self.get_query_argument("format", "run")
        image, warning = env.image, None
        try:
            client = await asyncio.to_thread(connect, self.hosts.get(env.host))
            image = await asyncio.to_thread(pinned_image, client, env.image)
        except Exception as e:  # still exportable: the reference as written, and why it is not pinned
            warning = f"image not pinned: {type(e).__name__}: {e}".splitlines()[0]
        self.write_json(
            {"name": env.name, "format": fmt, "image": image, "text": export(env, fmt, image), "warning": warning}
        )


default_handlers = [
    (route(rf"hosts/(?P<host>{NAME})/images/build"), BuildHandler),
    (route(rf"hosts/(?P<host>{NAME})/images/builds/(?P<build_id>{NAME})"), BuildStatusHandler),
    (route(rf"kernels/(?P<kernel_id>{NAME})/commit"), CommitHandler),
    (route(rf"environments/(?P<name>{NAME})/export"), ExportHandler),
]
