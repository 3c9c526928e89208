"""Installs ipykernel from a directory of wheels into the interpreter that runs it (inside an image build).

Not imported by the package: :mod:`.derive` copies this file into a derived image's build context
and runs it as ``<image's python> install.py WHEELS SITE_DIR MODE`` (network none, as root). MODE
``auto`` uses the interpreter's pip when it has one, ``pip`` requires it, ``unzip`` never uses it:
the wheels (zip files) are extracted into SITE_DIR and a ``.pth`` file naming SITE_DIR is written into
the interpreter's site-packages. Either way it ends by importing ipykernel in a fresh interpreter, so
a build that cannot run a kernel fails. Touches only the image being built. Python 3.7+ syntax,
standard library only.
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
        [sys.executable, "-m", "pip", "install", "--no-index", "--find-links", wheels, "ipykernel"], env=env
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
        pth.write(site_dir + "\n")
    print("added " + site_dir + " to sys.path via " + os.path.join(target, "jupyter-gpu-kernels.pth"))


def main():
    wheels, site_dir, mode = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "auto")
    pip = mode != "unzip" and has_pip()
    if mode == "pip" and not pip:
        sys.exit(sys.executable + " has no pip")
    if pip:
        pip_install(wheels)
    else:
        unzip_install(wheels, site_dir)
    subprocess.check_call(
        [
            sys.executable,
            "-c",
            "import ipykernel, ipykernel_launcher, zmq; "
            "print('ipykernel ' + ipykernel.__version__ + ' for ' + __import__('sys').executable)",
        ]
    )


if __name__ == "__main__":
    main()
