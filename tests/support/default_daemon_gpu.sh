#!/usr/bin/env bash
# Run a command with the DEFAULT Docker daemon in GPU mode (the fake NVIDIA toolkit on its PATH, as
# on our users' GPU machines), then ALWAYS put the previous daemon back, even on failure or Ctrl-C.
#
#   flock /tmp/jgk-pytest.lock bash tests/support/default_daemon_gpu.sh python3 -m pytest tests/test_cli.py
#
# Hold /tmp/jgk-pytest.lock around it on a shared machine: it stops the daemon every test session
# uses. It only switches a daemon that `python -m tests.support.dockerd up --owner TOKEN` started
# (recorded in /tmp/jgk-test-dockerd.json) and restarts it with the same owner token, so the
# script that started it can still stop it; a daemon it did not start is left alone (exit 3).
# The command runs with JGK_TEST_DEFAULT_DAEMON_GPU=1; its exit code is this script's.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY="${PYTHON:-python3}"
STATE=/tmp/jgk-test-dockerd.json

read_state() { "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get(sys.argv[2]) or "")' "$STATE" "$1" 2>/dev/null; }

if [ ! -s "$STATE" ]; then
    echo "default_daemon_gpu.sh: the default dockerd was not started by 'tests.support.dockerd up' ($STATE missing), so it is not ours to restart; nothing done" >&2
    exit 3
fi
PREV_OWNER="$(read_state owner)"
PREV_GPU="$(read_state gpu)"
GPU_OWNER="default-daemon-gpu-$$"

restore() {
    echo "==> default_daemon_gpu.sh: restoring the default dockerd (owner '${PREV_OWNER}', GPU mode: ${PREV_GPU:-False})" >&2
    "$PY" -m tests.support.dockerd down --owner "$GPU_OWNER" || true
    local gpu_flag=()
    [ "$PREV_GPU" = "True" ] && gpu_flag=(--gpu)
    env -u JGK_TEST_DEFAULT_DAEMON_GPU "$PY" -m tests.support.dockerd up ${PREV_OWNER:+--owner "$PREV_OWNER"} "${gpu_flag[@]}" >/dev/null \
        || echo "default_daemon_gpu.sh: ERROR: could not restart the default dockerd; run: python3 -m tests.support.dockerd up --owner '$PREV_OWNER'" >&2
    "$PY" -m tests.support.dockerd status >&2 || true
}

echo "==> default_daemon_gpu.sh: switching the default dockerd to GPU mode" >&2
"$PY" -m tests.support.dockerd down ${PREV_OWNER:+--owner "$PREV_OWNER"} || true
trap restore EXIT
trap 'exit 130' INT TERM
if ! JGK_TEST_DEFAULT_DAEMON_GPU=1 "$PY" -m tests.support.dockerd up --gpu --owner "$GPU_OWNER" >/dev/null; then
    echo "default_daemon_gpu.sh: could not start the default dockerd in GPU mode (log: /tmp/jgk-test-dockerd.log)" >&2
    exit 4
fi
"$PY" -m tests.support.dockerd status >&2
JGK_TEST_DEFAULT_DAEMON_GPU=1 "$@"
