"""The base of every ``jupyter gpu-kernels`` subcommand: a traitlets ``JupyterApp`` with strict parsing.

Used by the subcommand modules (:mod:`.kernelspecs`, :mod:`.hosts`, :mod:`.envs`, :mod:`.images`,
:mod:`.kernels`) and the root app in :mod:`.app`. It touches nothing outside the process: it parses the
command line, loads the CLI's own config files (``jupyter_gpu_kernels_config.py``, ``--config``) and
takes the settings objects (hosts registry, environments store, image policy) once per invocation
from :mod:`jupyter_gpu_kernels.settings`, for all the subcommand's helpers.

traitlets' own command-line loader is lenient (an unknown ``--option`` is only a warning, a bad value
logs "Bad config" and exits 1, argparse prints its usage on top); here every such problem raises
:class:`UsageError`, which :func:`.app.main` reports as one ``error:`` line with exit status 2.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, ClassVar

from jupyter_core.application import JupyterApp, base_aliases, base_flags
from traitlets import TraitError
from traitlets.config import Config
from traitlets.config.loader import ArgumentError, KVArgParseConfigLoader

from .. import __version__
from ..configurable import server_config
from ..settings import SECTIONS, Settings


class UsageError(Exception):
    """The command line is wrong (unknown option, missing argument, bad value): exit status 2."""


class _StrictParser(KVArgParseConfigLoader.parser_class):  # type: ignore[misc,valid-type]
    """argparse without its usage dump: an error is a :class:`UsageError`."""

    option_names: ClassVar[dict[str, str]] = {}

    def error(self, message: str) -> None:  # type: ignore[override]
        for target, option in self.option_names.items():
            message = message.replace(f"--{target}", option)
        raise UsageError(message)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        # options and positional arguments in any order: `hosts add NAME --tls-ca F URL` too
        return self.parse_intermixed_args(args, namespace)


class StrictLoader(KVArgParseConfigLoader):
    """traitlets' loader that refuses unknown options and options missing their value."""

    parser_class = _StrictParser

    def _create_parser(self) -> None:
        names = {target: f"--{alias}" for alias, target in self.aliases.items() if isinstance(alias, str)}
        self.parser_class = type("_Parser", (_StrictParser,), {"option_names": names})
        super()._create_parser()

    def _parse_args(self, args: Any) -> Any:
        self._check_options(list(args))
        return super()._parse_args(args)

    def _check_options(self, args: list[str]) -> None:
        flags = {k for key in self.flags for k in (key if isinstance(key, tuple) else (key,))}
        aliases = {k for key in self.aliases for k in (key if isinstance(key, tuple) else (key,))}
        seen: set[str] = set()
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                return
            if not arg.startswith("-") or arg == "-" or _is_number(arg):
                continue
            name, has_value = arg.lstrip("-").partition("=")[0], "=" in arg
            if name in flags and name not in aliases:
                if has_value:
                    raise UsageError(f"option {arg.split('=')[0]} takes no value")
                continue
            if name in aliases or "." in name:  # --Class.trait=value is traitlets' config syntax
                self._check_once(name, seen)
                if not has_value:
                    if i >= len(args) or (args[i].startswith("-") and not _is_number(args[i])):
                        if name in flags:  # an alias that is also a flag (none of ours)
                            continue
                        raise UsageError(f"option {arg} needs a value")
                    i += 1
                continue
            raise UsageError(f"unrecognized option {arg.split('=')[0]}")

    def _check_once(self, name: str, seen: set[str]) -> None:
        """An option of a one-value trait given twice is a usage error (list traits may repeat)."""
        target = next(
            (t for key, t in self.aliases.items() if name == key or (isinstance(key, tuple) and name in key)), name
        )
        trait = (getattr(self, "argparse_traits", {}).get(target) or (None,))[0]
        if trait is None or hasattr(trait, "from_string_list"):
            return
        if target in seen:
            alias = next((k for k, t in self.aliases.items() if t == target and isinstance(k, str)), name)
            raise UsageError(f"option --{alias} was given more than once; it takes one value")
        seen.add(target)

    def _handle_unrecognized_alias(self, arg: str) -> None:
        raise UsageError(f"unrecognized option --{arg}")

    def load_config(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().load_config(*args, **kwargs)
        except ArgumentError as e:
            message = str(e)
            for alias, target in self.aliases.items():  # a repeated option is caught before (_check_once)
                if isinstance(alias, str):
                    message = message.replace(f"argument {target}=", f"--{alias} ")
            raise UsageError(re.sub(r"^Error loading ", "", message)) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def settings_for(config: Any) -> Settings:
    """The hosts registry, environments store and image policy for one invocation.

    The process's :class:`~jupyter_gpu_kernels.settings.Settings` (from the Jupyter Server config
    files, where the administrator's hosts, environments and image allowlist live), or, when the
    command's own config (``jupyter_gpu_kernels_config.py``, ``--config``, ``--Class.trait=``) has
    sections for them, a Settings with that config on top of the files."""
    if isinstance(config, Config) and SECTIONS & set(config):
        return Settings(server_config(config))
    return Settings.for_process()


class Command(JupyterApp):
    """One ``jupyter gpu-kernels …`` (sub)command. Leaves implement :meth:`run` and return the exit status."""

    name = "jupyter-gpu-kernels"
    version = __version__
    aliases = base_aliases
    flags = base_flags
    #: the positional arguments, for the usage line and for :meth:`positionals` errors
    usage: ClassVar[str] = ""

    _cli_settings: Settings | None = None

    # ---------------------------------------------------------------- JupyterApp behaviour we do not want
    def _config_file_name_default(self) -> str:
        return "jupyter_gpu_kernels_config"

    def _find_subcommand(self, name: str) -> str:
        return ""  # never exec `jupyter-gpu-kernels-<name>` from PATH: our subcommands are in-process

    def load_config_file(self, *args: Any, **kwargs: Any) -> None:
        if self.config_file and not os.path.isfile(self.config_file):
            raise UsageError(f"--config: no such file {self.config_file!r}")
        super().load_config_file(*args, **kwargs)

    def migrate_config(self) -> None:
        """No IPython 3 config migration from this command."""

    def _create_loader(self, argv: Any, aliases: Any, flags: Any, classes: Any) -> StrictLoader:
        return StrictLoader(argv, aliases, flags, classes=classes, log=self.log, subcommands=self.subcommands)

    def update_config(self, config: Any) -> None:
        try:
            super().update_config(config)
        except TraitError as e:
            raise UsageError(self._explain(e)) from None

    def _explain(self, error: TraitError) -> str:
        message = str(error)
        for alias, target in self.aliases.items():
            trait = str(target).rpartition(".")[2]
            if isinstance(alias, str) and f"The '{trait}' trait" in message:
                return f"invalid value for --{alias}: {message.partition(' instance ')[2] or message}"
        return message

    def initialize_subcommand(self, subc: str, argv: Any = None) -> None:
        """As traitlets does, but a plain instance (no process-wide singleton) that shares our settings."""
        subapp, _ = self.subcommands[subc]
        self.subapp = subapp(parent=self)
        self.subapp.initialize(argv)

    # ---------------------------------------------------------------- running
    def start(self) -> int:  # type: ignore[override]
        if self.subapp is not None:
            return int(self.subapp.start() or 0)
        if self.generate_config:
            self.write_default_config()
            return 0
        if self.subcommands and self.extra_args:
            raise UsageError(f"unknown subcommand {self.extra_args[0]!r}; one of: {', '.join(self.subcommands)}")
        return int(self.run() or 0)

    def run(self) -> int:
        raise UsageError(f"missing subcommand; one of: {', '.join(self.subcommands)}")

    @property
    def settings(self) -> Settings:
        """Hosts, environments and image policy: one set for the whole invocation."""
        root: Command = self
        while isinstance(root.parent, Command):
            root = root.parent
        if root._cli_settings is None:
            root._cli_settings = settings_for(self.config)
        return root._cli_settings

    def parse_command_line(self, argv: Any = None) -> None:
        """As traitlets does, but general options may come before the subcommand too: ``--debug hosts``."""
        argv = list(sys.argv[1:] if argv is None else argv)
        if self.subcommands and argv and argv[0].startswith("-") and not {"-h", "--help", "--help-all"} & set(argv):
            takes_value = {f"--{k}" for k in self.aliases if isinstance(k, str)}
            at = next((i for i, a in enumerate(argv) if a in self.subcommands and argv[i - 1] not in takes_value), None)
            if at is not None:
                argv = [argv[at], *argv[:at], *argv[at + 1 :]]
        super().parse_command_line(argv)

    def positionals(self, *required: str, rest: str | None = None) -> list[str]:
        """The positional arguments: exactly ``required``, or those and at least one ``rest``."""
        args = list(self.extra_args)
        wanted = [*required, *([rest] if rest else [])]
        if len(args) < len(wanted):
            raise UsageError(f"missing argument {wanted[len(args)]}")
        if not rest and len(args) > len(required):
            raise UsageError(f"unexpected argument {args[len(required)]!r}")
        return args

    def require(self, **options: Any) -> None:
        """Options that must be given: ``require(image=self.image)``."""
        for option, value in options.items():
            if value is None or value == "":
                raise UsageError(f"option --{option.replace('_', '-')} is required")

    def emit_description(self) -> Any:
        yield f"Usage: {self.command_line} {self.usage or ('SUBCOMMAND' if self.subcommands else '[options]')}"
        yield ""
        yield from super().emit_description()

    @property
    def command_line(self) -> str:
        """How the user spells this command: ``jupyter gpu-kernels hosts add``."""
        return self.name.replace("-", " ", 1)

    def usage_hint(self) -> str:
        """What to add to a usage error: the usage line, or where the help is."""
        if self.usage:
            return f"usage: {self.command_line} {self.usage}; see --help"
        return f"see: {self.command_line} --help"


def print_table(rows: list[list[Any]], header: list[str]) -> None:
    """Left-aligned columns, two spaces apart, trailing blanks stripped."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def flag(cls: str, trait: str, value: Any, help: str) -> tuple[dict, str]:
    """A traitlets flag that sets one trait of ``cls``."""
    return ({cls: {trait: value}}, help)
