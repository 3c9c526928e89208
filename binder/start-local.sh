#!/usr/bin/env bash
# Install jupyter-gpu-kernels and start JupyterLab with it, on this machine's Docker daemon.
#
#   bash binder/start-local.sh [extra jupyter lab args...]      (PORT=8888, JGK_IMAGE=IMAGE to choose)
#
# 1. nodejs with apt-get when node is missing (as root on Debian; it builds the JupyterLab extension)
# 2. pip install . (into .venv when the interpreter is externally managed, e.g. Debian's python3)
# 3. `jupyter gpu-kernels start`, which does the rest and says what it does: a Docker daemon (the
#    reachable one, or, as root on Debian, docker.io installed and dockerd started), a kernel image
#    (a local one whose kernel starts, or a small demo image built once), the environment "demo",
#    then jupyter lab on 127.0.0.1:${PORT:-8888} with the URL and its token printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
say() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf 'start-local.sh: %s\n' "$*" >&2; exit 1; }

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || fail "no $PY found: install Python 3.9 or newer (or set PYTHON=/path/to/python3)"
if "$PY" -c 'import sysconfig,os,sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"],"EXTERNALLY-MANAGED")) else 1)' \
   || ! "$PY" -m pip --version >/dev/null 2>&1; then
    if [ ! -x .venv/bin/python ]; then
        say "creating .venv (this interpreter is externally managed or has no pip)"
        "$PY" -m venv .venv || fail "could not create .venv with $PY (on Debian: apt-get install python3-venv)"
    fi
    PY="$PWD/.venv/bin/python"
fi
BIN="$("$PY" -c 'import sys, os; print(os.path.dirname(sys.executable))')"  # prints only the directory
export PATH="$BIN:$PATH"

if ! command -v node >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing nodejs (builds the JupyterLab extension)"
    { apt-get update && apt-get install -y nodejs; } >&2 || fail "apt-get install nodejs failed (output above)"
fi
say "pip install ."
"$PY" -m pip install . >&2 || fail "pip install . failed (output above)"

say "jupyter gpu-kernels start"
ARGS=(--port "${PORT:-8888}")
if [ -n "${JGK_IMAGE:-}" ]; then ARGS+=(--image "$JGK_IMAGE"); fi
exec "$PY" -m jupyter_gpu_kernels.cli start "${ARGS[@]}" -- "$@"
