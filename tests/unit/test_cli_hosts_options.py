"""``hosts add``: no ``--ssh-option`` (SSH options are admin-only), ``--identity-file`` instead.

Extra ssh arguments can run commands (``-oProxyCommand=…``) and the user's hosts file may be
writable by kernel code, so only the administrator's config sets them (hosts/registry.py). The CLI
neither offers nor accepts the option; the refusal says why and what to use. The real CLI
(``cli.main``) on the test's own Jupyter dirs; no Docker needed.
"""

from __future__ import annotations

import json
import os

import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.hosts.registry import GPUKernelsHosts
from jupyter_gpu_kernels.hosts.ssh import SSHTunnel

from ..kernel_helpers import isolated_jupyter_dirs


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def user_hosts() -> set[str]:
    return {h.name for h in GPUKernelsHosts().all() if h.source == "user"}


@pytest.mark.parametrize(
    "args",
    [
        ["--ssh-option=-F", "--ssh-option=/etc/ssh_config"],
        ["--ssh-option", "-oProxyCommand=touch {marker}"],
        ["--ssh-option=-oProxyCommand=touch {marker}"],
    ],
)
def test_ssh_option_is_refused_with_the_reason_and_leaves_nothing(jdirs, capsys, args):
    marker = jdirs / "marker"
    argv = ["hosts", "add", "box", "ssh://me@127.0.0.1:1", *[a.format(marker=marker) for a in args]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--ssh-option is not available" in err and "administrator" in err and "~/.ssh/config" in err, err
    assert "--identity-file" in err and "Traceback" not in err, err
    assert "box" not in user_hosts() and not marker.exists()


def test_help_and_usage_do_not_offer_ssh_option(jdirs, capsys):
    assert cli.main(["hosts", "add", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--identity-file" in text and "ssh-option" not in text, text
    assert cli.main(["hosts", "add", "--help-all"]) == 0
    assert "ssh_option" not in capsys.readouterr().out


def test_identity_file_is_kept_and_reaches_ssh_as_one_argument(jdirs, capsys):
    key = jdirs / "keys" / "id_gpu box"
    key.parent.mkdir()
    key.write_text("not a real key")
    assert cli.main(["hosts", "add", "box", "ssh://me@gpu-box:2222", "--identity-file", "keys/id_gpu box"]) == 0
    host = GPUKernelsHosts().get("box")
    assert host.source == "user" and host.options == {"identity_file": str(key)}, host.options  # absolute
    argv = SSHTunnel(host)._base()
    assert argv[argv.index("-i") + 1] == str(key) and "IdentitiesOnly=yes" in argv, argv
    stored = json.loads(open(GPUKernelsHosts().user_file).read())
    assert "ssh_options" not in json.dumps(stored)


@pytest.mark.parametrize(
    "url, key, msg",
    [
        ("ssh://me@gpu-box", "missing-key", "identity_file '{path}' does not exist"),
        ("unix:///tmp/none.sock", "key", "identity_file is for ssh:// hosts"),
    ],
)
def test_identity_file_refusals(jdirs, capsys, url, key, msg):
    (jdirs / "key").write_text("k")
    assert cli.main(["hosts", "add", "box", url, "--identity-file", key]) == 2
    err = capsys.readouterr().err
    assert msg.format(path=os.path.join(str(jdirs), key)) in err, err
    assert "box" not in user_hosts()
