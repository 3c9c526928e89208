"""Named Docker hosts: where kernels run.

``local`` (the daemon the ``docker`` CLI would use: ``DOCKER_HOST``, else the current Docker
context, else the default socket) always exists.
Admins add hosts in traitlets config (``c.GPUKernelsHosts.hosts``; the old name
``c.DockerHosts`` still works, with a deprecation warning); users add their own
in ``<jupyter config dir>/gpu_kernels/hosts.json`` (CLI ``jupyter gpu-kernels hosts``).
A host is only a name and a URL here; :mod:`.transport` turns it into a client.
The registry the server uses is created once, by :class:`jupyter_gpu_kernels.settings.Settings`.
User entries are URL (user, port) + TLS files + ``identity_file``/``remote_socket`` only: SSH
options (``ProxyCommand``, ``-F``…) are read only from the admin config (a kernel may be able to
write the user's file; the server must never run what it says).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyter_core.paths import jupyter_config_dir
from traitlets import Dict, Unicode, default

from ..configurable import PrefixedConfigurable
from ..errors import HostError, SpecError, UnknownHostError
from ..specs.hosts import LOCAL, check_host_name
from ..userfile import read_section, write_section

# what a user's hosts file may carry in "options": file paths the server passes as such, never options
USER_OPTIONS = frozenset({"identity_file", "remote_socket"})
URL_FORMS = "unix:///path/docker.sock | tcp://host:2376 (TLS) | ssh://[user@]host[:port] | context://NAME"


@dataclass
class DockerHost:
    """A Docker daemon the provisioner can start kernels on."""

    name: str
    url: str
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_verify: bool = True
    description: str = ""
    source: str = "builtin"  # builtin | config | user
    options: dict = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return urlparse(self.url).scheme

    @property
    def is_local(self) -> bool:
        """True when the daemon shares this machine's filesystem (bind mounts, direct container IPs)."""
        if self.scheme == "context":
            return urlparse(self.resolved_url).scheme == "unix"
        if self.scheme == "unix":
            return True
        if self.scheme in ("tcp", "http", "https"):
            return (urlparse(self.url).hostname or "") in ("localhost", "127.0.0.1", "::1")
        return False

    @property
    def resolved_url(self) -> str:
        """The daemon URL; for ``context://NAME`` the Docker CLI context's endpoint."""
        if self.scheme != "context":
            return self.url
        from docker.context import ContextAPI

        ctx = ContextAPI.get_context(urlparse(self.url).netloc)
        return ctx.Host if ctx is not None else self.url

    @property
    def crosses_network(self) -> bool:
        """Kernel traffic to this host leaves the machine (so it must be encrypted)."""
        return urlparse(self.resolved_url).scheme in ("tcp", "https") and not self.is_local

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("source")
        return {k: v for k, v in data.items() if v not in ("", {}, None) or k in ("name", "url")}


_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,252})|\[[0-9A-Fa-f:.]+\]")
_SSH_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
_CONTEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,127}")
_SOCKET_PATH = re.compile(r"/[A-Za-z0-9_.@+/\-]*")


def _refuse(url: str, why: str) -> SpecError:
    return SpecError(f"invalid Docker host URL {url!r}: {why}; expected {URL_FORMS}", field="url")


def _check_unix(url: str, raw_path: str) -> None:
    path = os.path.normpath(raw_path)
    if not _SOCKET_PATH.fullmatch(raw_path):
        raise _refuse(url, "a unix socket path must be absolute and made of letters, digits and . _ - @ + /")
    if os.path.exists(path) and not stat.S_ISSOCK(os.stat(path).st_mode):
        raise _refuse(url, f"{path} exists and is not a socket")


def _check_network(url: str, parsed: Any) -> None:
    netloc = parsed.netloc.rsplit("@", 1)[-1]
    host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    if not host or not _HOSTNAME.fullmatch(host):
        raise _refuse(url, f"{host!r} is not a host name or address (letters, digits, '.', '-', not starting with '-')")
    try:
        port = parsed.port
    except ValueError:
        raise _refuse(url, "the port is not a number 1-65535") from None
    if port is not None and not 0 < port < 65536:
        raise _refuse(url, "port out of range")
    if "@" in parsed.netloc:
        if parsed.scheme != "ssh":
            raise _refuse(url, "only ssh:// takes a user name")
        if parsed.password is not None:
            raise _refuse(url, "no password in the URL: use a key or an agent")
        if not _SSH_USER.fullmatch(parsed.username or ""):
            raise _refuse(
                url, f"{parsed.username!r} is not a user name (letters, digits, '_', '.', '-', not starting with '-')"
            )
    if parsed.path not in ("", "/"):
        raise _refuse(url, f"unexpected path {parsed.path!r}")


def check_host_url(url: object) -> str:
    """Validate a Docker host URL strictly; the message lists the accepted forms.

    Host and user names are letters, digits, ``.``, ``_``, ``-`` and never start with ``-`` (so
    ``ssh`` cannot take one for an option); no whitespace, control or shell characters anywhere;
    a ``unix://`` path that exists must be a socket (``unix:///etc/passwd`` is refused)."""
    if not isinstance(url, str) or not url.strip():
        raise SpecError(f"invalid Docker host URL {url!r}: expected {URL_FORMS}", field="url")
    url = url.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or not c.isascii() for c in url):
        raise _refuse(url, "whitespace, control and non-ASCII characters are not allowed")
    if any(c in url for c in ";|&$`'\"\\<>(){}*?!#%^,"):
        raise _refuse(url, "shell metacharacters are not allowed")
    parsed = urlparse(url)
    if parsed.query or parsed.fragment or parsed.params:
        raise _refuse(url, "no query or fragment")
    if parsed.scheme == "unix":
        if parsed.netloc:
            raise _refuse(url, "a unix socket URL has three slashes and an absolute path: unix:///path")
        _check_unix(url, parsed.path)
    elif parsed.scheme in ("tcp", "ssh"):
        _check_network(url, parsed)
    elif parsed.scheme == "context":
        if not _CONTEXT.fullmatch(parsed.netloc) or parsed.path not in ("", "/"):
            raise _refuse(url, "name the Docker context (letters, digits, '_', '.', '+', '-'), e.g. context://myctx")
    else:
        raise _refuse(url, "unsupported scheme")
    return url


DEFAULT_SOCKET_URL = "unix:///var/run/docker.sock"


def docker_config_dir() -> Path:
    """The Docker CLI's configuration directory: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def current_context() -> str:
    """The Docker CLI's context: ``$DOCKER_CONTEXT``, else ``currentContext`` of its config.json, else 'default'."""
    name = os.environ.get("DOCKER_CONTEXT", "").strip()
    if name:
        return name
    try:
        config = json.loads((docker_config_dir() / "config.json").read_text())
    except (OSError, ValueError):
        return "default"
    return str(config.get("currentContext") or "default") if isinstance(config, dict) else "default"


def context_endpoint(name: str) -> str | None:
    """The Docker endpoint (``Host``) of CLI context ``name`` from
    ``<config dir>/contexts/meta/<sha256(name)>/meta.json``; None when there is no such context."""
    if name == "default":
        return DEFAULT_SOCKET_URL
    meta = docker_config_dir() / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    try:
        data = json.loads(meta.read_text())
        host = data["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(host) if host else None


def default_local_url() -> str:
    """The daemon the ``docker`` CLI would use: ``$DOCKER_HOST``, else the current context's endpoint
    (``$DOCKER_CONTEXT`` or config.json's ``currentContext``), else the default socket. A context whose
    endpoint is not a unix socket is referred to as ``context://NAME``, so that its TLS material is used."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    name = current_context()
    endpoint = context_endpoint(name)
    if endpoint is None:
        return DEFAULT_SOCKET_URL  # a context that does not exist: the CLI would fail; we take the default
    if name == "default" or urlparse(endpoint).scheme == "unix":
        return endpoint
    return f"context://{name}"


def local_description() -> str:
    if os.environ.get("DOCKER_HOST"):
        return "this machine's Docker daemon ($DOCKER_HOST)"
    name = current_context()
    if name != "default" and context_endpoint(name):
        return f"this machine's Docker daemon (Docker context {name!r})"
    return "this machine's Docker daemon"


class GPUKernelsHosts(PrefixedConfigurable):
    """The registry of named Docker hosts (admin config ``c.GPUKernelsHosts`` + the user's file)."""

    legacy_section = "DockerHosts"

    hosts = Dict(
        config=True,
        help="""Admin-defined Docker hosts: {name: {"url": ..., "tls_ca": ..., "tls_cert": ...,
        "tls_key": ..., "description": ...}}. Users cannot change or remove these.""",
    )
    local_url = Unicode(
        config=True,
        help="URL of the 'local' host. Default: the daemon the docker CLI uses: $DOCKER_HOST, else the "
        "current Docker context ($DOCKER_CONTEXT, else currentContext in $DOCKER_CONFIG/config.json), "
        "else unix:///var/run/docker.sock.",
    )
    user_file = Unicode(config=True, help="The user's hosts file (JSON).")

    @default("local_url")
    def _local_url_default(self) -> str:
        return default_local_url()

    @default("user_file")
    def _user_file_default(self) -> str:
        return str(Path(jupyter_config_dir()) / "gpu_kernels" / "hosts.json")

    def _read_user(self) -> dict[str, dict]:
        return read_section(self.user_file, "hosts", self.log)

    def _write_user(self, hosts: dict[str, dict]) -> None:
        write_section(self.user_file, "hosts", hosts)

    def _user_entry(self, name: str, spec: dict) -> dict:
        """A user host entry keeps only what the server never executes: URL (user, port), TLS files,
        description and the options in USER_OPTIONS. SSH options (ProxyCommand, -F, …) come only from
        the admin config: the user's file may be writable by kernel code."""
        options = dict(spec.get("options") or {}) if isinstance(spec.get("options") or {}, dict) else {}
        dropped = sorted(set(options) - USER_OPTIONS)
        if dropped:
            self.log.warning(
                "host %r in %s: ignoring %s (only the administrator's config may set them; "
                "a user host is URL + user + port + identity_file)",
                name,
                self.user_file,
                ", ".join(dropped),
            )
        kept = {k: str(v) for k, v in options.items() if k in USER_OPTIONS}
        return {**{k: v for k, v in spec.items() if k != "options"}, **({"options": kept} if kept else {})}

    @staticmethod
    def _make(name: str, spec: dict, source: str) -> DockerHost:
        known = {"url", "tls_ca", "tls_cert", "tls_key", "tls_verify", "description", "options"}
        unknown = set(spec) - known
        if unknown:
            raise SpecError(f"host {name!r}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        check_host_url(spec.get("url"))  # also for hand-written files: never an ssh option as a host
        return DockerHost(name=name, source=source, **{k: v for k, v in spec.items()})

    def all(self) -> list[DockerHost]:
        result = {LOCAL: DockerHost(LOCAL, self.local_url, description=local_description())}
        for name, spec in self._read_user().items():
            try:
                result[name] = self._make(name, self._user_entry(name, dict(spec)), "user")
            except (SpecError, TypeError) as e:
                self.log.warning("ignoring host %r from %s: %s", name, self.user_file, e)
        for name, spec in self.hosts.items():
            result[name] = self._make(name, dict(spec), "config")
        return list(result.values())

    def get(self, name: str | None) -> DockerHost:
        name = name or LOCAL
        for host in self.all():
            if host.name == name:
                return host
        known = ", ".join(h.name for h in self.all())
        raise UnknownHostError(
            f"unknown Docker host {name!r}; known hosts: {known}. "
            f"Add one with: jupyter gpu-kernels hosts add {name} ssh://user@gpu-box"
        )

    def add(self, name: str, url: str, **settings: object) -> DockerHost:
        check_host_name(name)
        check_host_url(url)
        if name == LOCAL or name in self.hosts:
            raise SpecError(f"host {name!r} is defined by the administrator or built in; choose another name")
        for key in ("tls_ca", "tls_cert", "tls_key"):
            value = settings.get(key)
            if value and not Path(str(value)).expanduser().is_file():
                raise SpecError(f"host {name!r}: {key} file {value!r} does not exist")
        parsed = urlparse(url)
        if (
            parsed.scheme == "tcp"
            and parsed.hostname not in ("localhost", "127.0.0.1", "::1")
            and not (settings.get("tls_cert") or settings.get("tls_ca"))
        ):
            raise SpecError(
                f"host {name!r}: a tcp:// Docker host must use TLS (--tls-ca, --tls-cert, --tls-key); a plain "
                "TCP Docker API gives anyone who can reach it root on that machine. Use ssh:// instead if you can"
            )
        options = settings.get("options") or {}
        refused = sorted(set(options) - USER_OPTIONS) if isinstance(options, dict) else ["options"]
        if refused:
            raise SpecError(
                f"host {name!r}: {', '.join(refused)} can only be set by the administrator "
                "(c.GPUKernelsHosts.hosts); a user host is URL + user + port + identity file"
            )
        identity = options.get("identity_file")
        if identity and parsed.scheme != "ssh":
            raise SpecError(f"host {name!r}: identity_file is for ssh:// hosts, not {parsed.scheme}://")
        if identity and not Path(str(identity)).expanduser().is_file():
            raise SpecError(f"host {name!r}: identity_file {identity!r} does not exist")
        user = self._read_user()
        spec = {"url": url, **{k: v for k, v in settings.items() if v not in (None, "")}}
        host = self._make(name, spec, "user")
        user[name] = spec
        self._write_user(user)
        return host

    def remove(self, name: str) -> None:
        user = self._read_user()
        if name not in user:
            if name == LOCAL or name in self.hosts:
                raise SpecError(f"host {name!r} is built in or defined by the administrator and cannot be removed")
            raise HostError(f"unknown Docker host {name!r}")
        del user[name]
        self._write_user(user)


DockerHosts = GPUKernelsHosts  # the old name, still importable
