"""The terminal websocket: ``gpu-kernels/api/kernels/{id}/terminal``, a shell in a kernel's container.

Exported as ``default_handlers`` for :mod:`.routes`; the JupyterLab panel
(``labextension/src/widgets/KernelTerminal.ts``) connects to it. Authenticated (jupyter_server's
``ws_authenticated``) and authorized like the kernel websocket: ``execute`` on ``kernels``; origin
checked by jupyter_server's :class:`WebSocketMixin`. Only kernels this server manages (404 otherwise).

Messages are the JSON arrays of terminado's protocol (what JupyterLab's terminals speak):
client → server ``["stdin", text]``, ``["set_size", rows, cols, ...]``; server → client
``["setup", {}]``, ``["stdout", text]``, ``["disconnect", 1]`` when the shell ends. The exec stream
(:mod:`jupyter_gpu_kernels.daemon.exec`) is read in a thread that hands output to the IOLoop; closing
the websocket ends the session and every process it left in the container.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import threading
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..daemon.exec import ExecSession
from ..errors import GPUKernelsError, as_http_error
from ..hosts.transport import connect
from .base import NAME, route
from .services import services_of

AUTH_RESOURCE = "kernels"


class KernelTerminalHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    session: ExecSession | None = None

    def set_default_headers(self) -> None:
        """No JupyterHandler default headers on a websocket (as jupyter_server's kernel websocket)."""

    @ws_authenticated
    async def get(self, kernel_id: str) -> None:
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)):
            raise web.HTTPError(403)
        if kernel_id not in self.kernel_manager.list_kernel_ids():
            raise web.HTTPError(404, f"no kernel {kernel_id!r} on this server")
        prov = getattr(self.kernel_manager.get_kernel(kernel_id), "provisioner", None)
        container_id = getattr(prov, "container_id", None)
        if not container_id:
            raise web.HTTPError(404, f"kernel {kernel_id!r} has no running container")
        try:
            client = await asyncio.to_thread(connect, services_of(self.settings).hosts.get(prov.host))
            container = await asyncio.to_thread(client.containers.get, container_id)
        except GPUKernelsError as e:
            raise as_http_error(e) from e
        self.session = ExecSession(client, container)  # started in open(), once the upgrade succeeded
        await ensure_async(super().get(kernel_id))

    async def open(self, kernel_id: str) -> None:  # type: ignore[override]
        super().open()  # WebSocketMixin's ping loop
        assert self.session is not None
        try:
            await asyncio.to_thread(self.session.start)
        except Exception as e:
            self.log.warning("terminal in kernel %s: %s", kernel_id, e)
            self.close(1011, f"could not start a shell: {e}"[:120])
            return
        self.log.info("terminal in the container of kernel %s (%s)", kernel_id, " ".join(self.session.cmd))
        self.write_message(json.dumps(["setup", {}]))
        loop = IOLoop.current()
        threading.Thread(
            target=self._pump, args=(self.session, loop), daemon=True, name=f"gpu-kernels-terminal-{kernel_id[:8]}"
        ).start()

    def _pump(self, session: ExecSession, loop: IOLoop) -> None:
        """(thread) exec output → the websocket, until the shell ends."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                data = session.recv()
                if not data:
                    break
                loop.add_callback(self._send, ["stdout", decoder.decode(data)])
        except OSError:
            pass
        loop.add_callback(self._ended)

    def _send(self, message: list[Any]) -> None:
        try:
            self.write_message(json.dumps(message))
        except WebSocketClosedError:
            pass

    def _ended(self) -> None:
        self._send(["disconnect", 1])
        self.close()

    async def on_message(self, message: str | bytes) -> None:  # type: ignore[override]
        session = self.session
        try:
            command = json.loads(message)
        except ValueError:
            return
        if session is None or not isinstance(command, list) or not command:
            return
        if command[0] == "stdin" and len(command) > 1 and isinstance(command[1], str):
            session.send(command[1].encode())
        elif command[0] == "set_size" and len(command) > 2:
            try:
                rows, cols = int(command[1]), int(command[2])
            except (TypeError, ValueError):
                return
            await asyncio.to_thread(session.resize, rows, cols)

    def on_close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            IOLoop.current().run_in_executor(None, session.close)


default_handlers = [(route(rf"kernels/(?P<kernel_id>{NAME})/terminal"), KernelTerminalHandler)]
