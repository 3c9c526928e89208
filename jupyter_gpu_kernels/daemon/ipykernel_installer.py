"""Installs ipykernel from a directory of wheels into the interpreter that runs it (inside an image build).

Not imported by the package: :mod:`.derive` copies this file into a derived image's build context
and runs it as ``<image's python> install.py WHEELS SITE_DIR MODE`` (network none, as root). MODE
``auto`` uses the interpreter's pip when it has one, ``pip`` requires it, ``unzip`` never uses it:
the wheels (zip files) are extracted into SITE_DIR and a ``.pth`` file in the interpreter's
site-packages puts SITE_DIR on ``sys.path`` before the site-packages directories.

Whatever the image's metadata claims is installed, the whole closure of the wheels is installed:
pip runs with ``--ignore-installed`` (a slimmed image may keep ipykernel's dist-info with its module
deleted, and pip would answer "Requirement already satisfied"), and SITE_DIR comes before the image's
own, possibly old or broken, Jupyter packages. Either way it ends by importing ipykernel in a fresh
interpreter and checking that ipykernel, jupyter_client, pyzmq, tornado and traitlets are the
versions of the wheels (not a copy of the image that comes first on ``sys.path``), so a build that
cannot run a kernel fails, naming the module. Touches only the image being built. Python 3.7+
syntax, standard library only.
"""

import os
import subprocess
import sys
import sysconfig
import zipfile


def has_pip():
    with open(os.devnull, "wb") as devnull:
        return subprocess.call([sys.executable, "-m", "pip", "--version"], stdout=devnull, stderr=devnull) == 0


def pip_install(wheels):
    env = dict(
        os.environ,
        PIP_BREAK_SYSTEM_PACKAGES="1",
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_ROOT_USER_ACTION="ignore",
        PIP_NO_WARN_SCRIPT_LOCATION="1",
    )
    subprocess.check_call(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            wheels,
            "--ignore-installed",
            "ipykernel",
        ],
        env=env,
    )


def unzip_install(wheels, site_dir):
    os.makedirs(site_dir, exist_ok=True)
    for name in sorted(os.listdir(wheels)):
        if name.endswith(".whl"):
            print("unpacking " + name)
            with zipfile.ZipFile(os.path.join(wheels, name)) as wheel:
                wheel.extractall(site_dir)
    for root, dirs, files in os.walk(site_dir):
        for entry in dirs + files:
            path = os.path.join(root, entry)
            os.chmod(path, os.stat(path).st_mode | 0o444 | (0o111 if os.path.isdir(path) else 0))
    os.chmod(site_dir, 0o755)
    target = sysconfig.get_paths()["purelib"]
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "jupyter-gpu-kernels.pth"), "w") as pth:
        pth.write(pth_line(site_dir) + "\n")
    print("added " + site_dir + " to sys.path via " + os.path.join(target, "jupyter-gpu-kernels.pth"))


def pth_line(site_dir):
    """A ``.pth`` line (run by ``site`` as it reads the file) that inserts ``site_dir`` before the first
    site-packages (or Debian dist-packages) directory on ``sys.path``: the wheels' packages win over the
    image's own copies, while PYTHONPATH, the script's directory and the standard library stay first."""
    return (
        "import sys; sys.path.insert(min([i for i, p in enumerate(sys.path) if p.rstrip('/').endswith("
        "('site-packages', 'dist-packages'))] or [len(sys.path)]), %r) if %r not in sys.path else None"
        % (site_dir, site_dir)
    )


# distribution -> (module, attribute holding its version): checked after the install
CHECKED = {
    "ipykernel": ("ipykernel", "__version__"),
    "jupyter_client": ("jupyter_client", "__version__"),
    "pyzmq": ("zmq", "__version__"),
    "tornado": ("tornado", "version"),
    "traitlets": ("traitlets", "__version__"),
}


def wheel_versions(wheels):
    """{distribution: version} of the checked distributions among the wheels (from their file names)."""
    out = {}
    for name in os.listdir(wheels):
        if name.endswith(".whl"):
            dist, version = name.split("-")[:2]
            if dist.lower() in CHECKED:
                out[dist.lower()] = version
    return out


def check_imports(wheels):
    """In a fresh interpreter: ipykernel imports, and the checked modules are the wheels' versions."""
    code = (
        "import sys, ipykernel, ipykernel_launcher, zmq\n"
        "for dist, (module, attr, want) in sorted(%r.items()):\n"
        "    m = __import__(module)\n"
        "    got = str(getattr(m, attr, ''))\n"
        "    if got != want:\n"
        "        sys.exit('%%s %%s from %%s is imported instead of the installed %%s %%s: the image has its own copy '\n"
        "                 'earlier on sys.path' %% (dist, got, m.__file__, dist, want))\n"
        "print('ipykernel ' + ipykernel.__version__ + ' for ' + sys.executable)\n"
        % {d: CHECKED[d] + (v,) for d, v in wheel_versions(wheels).items()}
    )
    subprocess.check_call([sys.executable, "-c", code])


def main():
    wheels, site_dir, mode = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "auto")
    pip = mode != "unzip" and has_pip()
    if mode == "pip" and not pip:
        sys.exit(sys.executable + " has no pip")
    if pip:
        pip_install(wheels)
    else:
        unzip_install(wheels, site_dir)
    check_imports(wheels)


if __name__ == "__main__":
    main()
