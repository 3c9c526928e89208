#!/usr/bin/env bash
# Install jupyter-gpu-kernels and start JupyterLab with it, on this machine's Docker daemon.
#
#   bash binder/start-local.sh [extra jupyter lab args...]
#
# 1. pip install . (into .venv when the interpreter is externally managed, e.g. Debian's python3)
# 2. a Docker daemon: reuses a reachable one; otherwise, as root on Debian, installs docker.io and
#    starts dockerd (left running: JupyterLab needs it)
# 3. a kernel image: uses any local image whose python3/python has ipykernel (or $JGK_IMAGE), and
#    starts its kernel once to prove it works; if there is none, builds a small demo image (Debian
#    bookworm + Python 3 + ipykernel, about a minute) — no registry needed
# 4. an environment "demo" on that image, so a "demo" kernel is in the Launcher
# 5. jupyter lab on 127.0.0.1:${PORT:-8888} (the URL with its token is printed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
say() { printf '\n==> %s\n' "$*" >&2; }

PY="${PYTHON:-python3}"
if "$PY" -c 'import sysconfig,os,sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"],"EXTERNALLY-MANAGED")) else 1)' \
   || ! "$PY" -m pip --version >/dev/null 2>&1; then
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    PY="$PWD/.venv/bin/python"
fi
BIN="$(dirname "$("$PY" -c 'import sys; print(sys.executable)')")"
export PATH="$BIN:$PATH"

if ! command -v node >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing nodejs (builds the JupyterLab extension)"; apt-get update && apt-get install -y nodejs
fi
say "pip install ."
"$PY" -m pip install .

say "Docker daemon"
export DOCKER_HOST="$("$PY" -m tests.support.dockerd up)"
say "Docker daemon at $DOCKER_HOST"

# the first image whose python3/python has ipykernel (or $JGK_IMAGE), checked by starting its kernel
IMAGE="$("$PY" binder/pick_image.py ${JGK_IMAGE:+"$JGK_IMAGE"})"
if [ -z "$IMAGE" ]; then
    say "no image with ipykernel here: building the demo image"
    IMAGE="$("$PY" -c 'import docker; from tests.support.image import ensure_test_image; print(ensure_test_image(docker.from_env()))' | tail -n 1)"
    IMAGE="$("$PY" binder/pick_image.py "$IMAGE")"
fi
say "kernel image: $IMAGE"
if ! "$PY" -m jupyter_gpu_kernels.cli envs list --json | grep -q '"name": "demo"'; then
    "$PY" -m jupyter_gpu_kernels.cli envs add demo --image "$IMAGE" --display-name "Demo ($IMAGE)"
fi

say "starting JupyterLab (Ctrl-C to stop)"
ROOT_FLAG=()
[ "$(id -u)" -eq 0 ] && ROOT_FLAG=(--allow-root)
exec "$PY" -m jupyter lab --ServerApp.ip=127.0.0.1 --port="${PORT:-8888}" --no-browser "${ROOT_FLAG[@]}" "$@"
