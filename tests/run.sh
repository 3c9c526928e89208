#!/usr/bin/env bash
# The project's single test command:   bash tests/run.sh [pytest args...]
#
# On a fresh Debian machine, as root, it:
#   1. installs the system packages the tests need, if missing (one `apt-get update`, only then):
#      docker.io, debootstrap, iproute2, util-linux, chromium, openssh-server, docker-registry,
#      openssl, ca-certificates,
#      nodejs (to build the labextension during the editable install)
#   2. pip install -e '.[test]'   (into a .venv if the interpreter is externally managed)
#   3. lint: ruff check + ruff format --check over jupyter_gpu_kernels/ tests/ binder/ (config:
#      [tool.ruff] in pyproject.toml); a violation fails the run here, before pytest
#   4. makes sure a Docker daemon runs      (python -m tests.support.dockerd up)
#   5. builds the test images once          (python -m tests.support.image build; cached)
#   6. runs python -m pytest "$@"
#   7. under CI=true, with no pytest args: runs the files that use the default daemon's host and GPU
#      state again with the default daemon in GPU mode (fake NVIDIA toolkit; see step 7 below)
# and stops the Docker daemon again if it started it. Exits with pytest's exit code.
#
# Unit-only runs: when every path among the pytest args is under tests/unit/ (the tests that need
# no Docker, browser or network namespace; e.g. `bash tests/run.sh tests/unit -q`), steps 4, 5
# and 7 are skipped (no daemon is started or stopped, no image is built) and step 1 installs only
# what those tests need (Node.js, CA certificates).
#
# Environment: PYTHON (interpreter, default python3), JGK_TEST_SKIP_INSTALL=1 (skip steps 1-2),
# JGK_TEST_SKIP_LINT=1 (skip step 3), JGK_TEST_CACHE (image cache dir), CI=true (JUnit XML to
# tests/artifacts/junit.xml, and step 7), JGK_TEST_DEFAULT_DAEMON_GPU=1 (a daemon started here has
# the fake NVIDIA toolkit; a running one must have an NVIDIA hook), JGK_TEST_GPU_PASS=0 /
# JGK_TEST_GPU_PASS_FILES (step 7).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd -P)"

export PYTHONUNBUFFERED=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export PIP_ROOT_USER_ACTION=ignore
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { printf '\n==> %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------- unit-only runs
# True when the pytest args name at least one path and every path among them is under tests/unit/.
# An arg that is no existing path (-k EXPR, -m MARK, -p no:cacheprovider, ...) is not a path; any
# other path (tests/, tests/test_cli.py, a --basetemp dir) makes the run a Docker one.
unit_only() {
    local arg path n=0
    for arg in "$@"; do
        case "$arg" in -*) continue ;; esac
        path="${arg%%::*}"
        [ -e "$path" ] || continue
        path="$(realpath -m -- "$path")"
        case "$path/" in
            "$REPO_ROOT/tests/unit/"*) n=$((n + 1)) ;;
            *) return 1 ;;
        esac
    done
    [ "$n" -gt 0 ]
}
UNIT_ONLY=0
if unit_only "$@"; then
    UNIT_ONLY=1
fi

# ---------------------------------------------------------------- 1. system packages
install_system_packages() {
    local missing=()
    if [ "$UNIT_ONLY" = 1 ]; then  # the jest tests and the editable install's labextension build; pip
        command -v node >/dev/null 2>&1 || missing+=(nodejs)
        [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
    else
        install_docker_test_packages
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        say "system packages: all present"
        return
    fi
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        say "WARNING: missing system packages (${missing[*]}) and cannot install them here (need root on Debian); tests that need them will FAIL with an explanation"
        return
    fi
    say "installing system packages: ${missing[*]}"
    apt-get update
    apt-get install -y "${missing[@]}"
}

# adds to the caller's `missing` what the Docker, browser and SSH tests need
install_docker_test_packages() {
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    { command -v nsenter && command -v unshare; } >/dev/null 2>&1 || missing+=(util-linux)
    { command -v chromium || command -v chromium-browser; } >/dev/null 2>&1 || missing+=(chromium)
    command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v tar >/dev/null 2>&1 || missing+=(tar)
}

# ---------------------------------------------------------------- 2. python environment
choose_python() {
    PY="${PYTHON:-python3}"
    if ! command -v "$PY" >/dev/null 2>&1; then
        echo "error: no Python interpreter '$PY' (set PYTHON=...)" >&2
        exit 2
    fi
    # Debian's own python3 refuses `pip install` (PEP 668): use a venv next to the repo then.
    local managed
    managed="$("$PY" -c 'import sysconfig, os; print(os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED")))')"
    if [ "$managed" = "True" ] || ! "$PY" -m pip --version >/dev/null 2>&1; then
        if [ ! -x .venv/bin/python ]; then
            say "creating .venv (the interpreter $PY is externally managed or has no pip)"
            if ! "$PY" -m venv .venv; then
                if is_root && command -v apt-get >/dev/null 2>&1; then
                    apt-get install -y python3-venv python3-pip
                    "$PY" -m venv .venv
                else
                    echo "error: cannot create a venv with $PY (install python3-venv)" >&2
                    exit 2
                fi
            fi
        fi
        PY="$REPO_ROOT/.venv/bin/python"
    fi
    say "python: $PY ($("$PY" --version 2>&1))"
}

# ---------------------------------------------------------------- 3. lint
LINT_PATHS=(jupyter_gpu_kernels tests binder)
lint() {
    if [ "${JGK_TEST_SKIP_LINT:-0}" = 1 ]; then
        say "lint: skipped (JGK_TEST_SKIP_LINT=1)"
        return
    fi
    if ! "$PY" -m ruff --version >/dev/null 2>&1; then
        echo "error: ruff is not installed for $PY; it is in the [test] extras (pip install -e '.[test]', which this script runs unless JGK_TEST_SKIP_INSTALL=1). JGK_TEST_SKIP_LINT=1 skips the lint step." >&2
        exit 2
    fi
    say "lint: $("$PY" -m ruff --version) check + format --check over ${LINT_PATHS[*]}"
    local failed=""
    "$PY" -m ruff check --no-fix "${LINT_PATHS[@]}" || failed="ruff check (lint rules)"
    "$PY" -m ruff format --check --output-format concise "${LINT_PATHS[@]}" \
        || failed="${failed:+$failed and }ruff format --check (formatting)"
    if [ -n "$failed" ]; then
        echo >&2
        echo "error: lint FAILED: $failed; the violations are listed above, pytest was not run." >&2
        echo "  Fix with:  ruff check --fix ${LINT_PATHS[*]} && ruff format ${LINT_PATHS[*]}" >&2
        echo "  then fix by hand what 'ruff check ${LINT_PATHS[*]}' still reports (config: [tool.ruff] in pyproject.toml)." >&2
        exit 1
    fi
}

# ---------------------------------------------------------------- main
if [ "${JGK_TEST_SKIP_INSTALL:-0}" != 1 ]; then
    install_system_packages
fi
choose_python
if [ "${JGK_TEST_SKIP_INSTALL:-0}" != 1 ]; then
    # A `jupyter labextension develop` symlink in the prefix points into this repo; pip's
    # uninstall of the previous install then moves the repo's built labextension away and the
    # install fails (ENOENT on .../labextensions/jupyter-gpu-kernels/install.json). The editable
    # install puts a real copy there instead.
    LABEXT_LINK="$("$PY" -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/jupyter-gpu-kernels"
    if [ -L "$LABEXT_LINK" ]; then
        say "NOTE: removing the 'jupyter labextension develop' symlink $LABEXT_LINK -> $(readlink "$LABEXT_LINK") (it breaks pip's reinstall); restore it with: jupyter labextension develop --overwrite ."
        rm -f "$LABEXT_LINK"
    fi
    say "pip install -e '.[test]'"
    "$PY" -m pip install -e '.[test]'
fi

lint

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -n "$CHROMIUM" ]; then
    export JGK_TEST_CHROMIUM="$CHROMIUM"
fi

OWNER="run.sh-$$-$(date +%s)"
stop_dockerd() {
    # stops dockerd only if the `up` below started it (same owner token)
    "$PY" -m tests.support.dockerd down --owner "$OWNER" || true
}

if [ "$UNIT_ONLY" = 1 ]; then
    say "Docker daemon: not needed (every pytest path is under tests/unit/): no daemon started, no test images built"
elif say "Docker daemon" && DOCKER_URL="$("$PY" -m tests.support.dockerd up --owner "$OWNER")"; then
    trap stop_dockerd EXIT
    export DOCKER_HOST="$DOCKER_URL"
    say "Docker daemon at $DOCKER_HOST"
    say "test images"
    SECONDS=0
    if ! "$PY" -m tests.support.image build; then
        say "WARNING: building the test images failed (see above); the tests that need them will fail"
    fi
    say "test images ready after ${SECONDS}s"
else
    say "WARNING: no usable Docker daemon (see above); the tests that need Docker will FAIL with an explanation"
fi

PYTEST_ARGS=()
if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
    mkdir -p tests/artifacts
    PYTEST_ARGS+=(--junitxml=tests/artifacts/junit.xml -o junit_family=xunit2 --color=no)
fi

say "$PY -m pytest ${PYTEST_ARGS[*]:-} $*"
set +e
"$PY" -m pytest "${PYTEST_ARGS[@]}" "$@"
rc=$?
set -e
say "pytest exit code: $rc"

# ---------------------------------------------------------------- 7. CI: GPU-mode pass
# Our users' default daemon has the NVIDIA runtime; CI's has none. So under CI=true, after a full
# run (no pytest args), the files that use the default daemon's host and GPU state ("local": hosts,
# doctor, inventory, GPU requests, kernels through the server, contexts, the sidebar) run again with
# the default daemon restarted with the fake NVIDIA toolkit (tests/support/default_daemon_gpu.sh,
# which always restores it). Override the list with JGK_TEST_GPU_PASS_FILES; JGK_TEST_GPU_PASS=0
# skips it, =1 runs it even with pytest args or without CI. Only a daemon this script started is switched.
GPU_PASS_FILES_DEFAULT="tests/test_provisioner.py tests/test_api.py tests/test_cli.py tests/test_server.py tests/test_contexts.py tests/test_infra.py tests/test_input_validation.py tests/test_policy.py tests/browser/test_sidebar.py"
is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }
state_owner() { "$PY" -c 'import json; print(json.load(open("/tmp/jgk-test-dockerd.json")).get("owner") or "")' 2>/dev/null || true; }
GPU_PASS="${JGK_TEST_GPU_PASS:-auto}"
if [ "$UNIT_ONLY" = 1 ]; then
    [ "$GPU_PASS" = 1 ] && say "GPU-mode pass: not run (a unit-only run uses no Docker daemon)"
elif [ "$GPU_PASS" = 1 ] || { [ "$GPU_PASS" = auto ] && is_ci && [ "$#" -eq 0 ]; }; then
    gpu_summary=""
    gpu_rc=0
    mode="$("$PY" -m tests.support.dockerd mode 2>/dev/null || echo unknown)"
    if [ "$mode" = "gpu" ]; then
        gpu_summary="not needed: the default daemon already has an NVIDIA hook, so the normal pass ran in GPU mode"
    elif [ "$(state_owner)" != "$OWNER" ]; then
        gpu_summary="NOT RUN: the default daemon was not started by this script, so it is not switched (run it under tests/support/default_daemon_gpu.sh yourself)"
    else
        read -r -a gpu_files <<<"${JGK_TEST_GPU_PASS_FILES:-$GPU_PASS_FILES_DEFAULT}"
        say "GPU-mode pass: ${#gpu_files[@]} files with the default daemon restarted with the fake NVIDIA toolkit"
        SECONDS=0
        set +e
        bash tests/support/default_daemon_gpu.sh "$PY" -m pytest --junitxml=tests/artifacts/junit-gpu-mode.xml \
            -o junit_family=xunit2 --color=no -p no:cacheprovider "${gpu_files[@]}"
        gpu_rc=$?
        set -e
        gpu_summary="pytest exit code $gpu_rc after ${SECONDS}s (${#gpu_files[@]} files; JUnit: tests/artifacts/junit-gpu-mode.xml)"
    fi
    say "summary: normal pass: pytest exit code $rc; GPU-mode pass (default daemon with the NVIDIA runtime): $gpu_summary"
    if [ "$rc" -eq 0 ] && [ "$gpu_rc" -ne 0 ]; then
        rc="$gpu_rc"
    fi
fi
exit "$rc"
