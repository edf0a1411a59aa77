#!/bin/sh
# CI recipe for a repository of sigilctl jobs and runs: plain POSIX shell and Python 3.11+.
#
#   scripts/ci/verify-repo.sh [REPO_DIR]          (REPO_DIR: holds jobs/ and artifacts/; default .)
#
# 1. installs sigilctl into a private virtual environment;
# 2. `sigilctl smoke --junit-xml`: the invariant suite, in its own temporary workspace (it never
#    reads or writes REPO_DIR, and never talks to a real Langfuse project);
# 3. `sigilctl verify --all`: every run under REPO_DIR/artifacts, proven from its bytes;
# 4. `sigilctl verify --all --source --latest`: every job has a run, and each job's latest run
#    still matches jobs/ (older runs are history and never fail it).
# Every step always runs; the script exits with the worst of their exit codes
# (0 ok, 1 not ok, 2 bad usage or nothing to verify).
#
# Settings (environment):
#   SIGILCTL_INSTALL  what pip installs (default "sigilctl"; pin it: "sigilctl==0.1.0", a wheel
#                     path or a VCS URL). Empty: use the sigilctl already on PATH.
#   PYTHON            the interpreter that creates the environment (default python3)
#   SIGILCTL_VENV     where the environment goes (default $RUNNER_TEMP or /tmp, + sigilctl-venv)
#   REPORTS_DIR       where sigilctl-smoke.xml goes (default REPO_DIR/reports)
#   VERIFY_ARGS       extra verify options, e.g. "--job ig-test-001"
#   LATEST_GATE       0 skips step 4 (default 1)
set -u

REPO_DIR=${1:-.}
PYTHON=${PYTHON:-python3}
SIGILCTL_VENV=${SIGILCTL_VENV:-${RUNNER_TEMP:-/tmp}/sigilctl-venv}
SIGILCTL_INSTALL=${SIGILCTL_INSTALL-sigilctl}
REPORTS_DIR=${REPORTS_DIR:-$REPO_DIR/reports}
VERIFY_ARGS=${VERIFY_ARGS:-}
LATEST_GATE=${LATEST_GATE:-1}

if [ ! -d "$REPO_DIR" ]; then
    echo "verify-repo: $REPO_DIR is not a directory" >&2
    exit 2
fi

if [ -n "$SIGILCTL_INSTALL" ]; then
    echo "== installing $SIGILCTL_INSTALL into $SIGILCTL_VENV"
    "$PYTHON" -m venv "$SIGILCTL_VENV" || exit 2
    "$SIGILCTL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "$SIGILCTL_INSTALL" || exit 2
    SIGILCTL=$SIGILCTL_VENV/bin/sigilctl
else
    SIGILCTL=$(command -v sigilctl) || {
        echo "verify-repo: SIGILCTL_INSTALL is empty and no sigilctl is on PATH" >&2
        exit 2
    }
fi
"$SIGILCTL" --version || exit 2
mkdir -p "$REPORTS_DIR" || exit 2

echo "== sigilctl smoke"
"$SIGILCTL" smoke --junit-xml "$REPORTS_DIR/sigilctl-smoke.xml"
smoke=$?

echo "== sigilctl verify --all $VERIFY_ARGS"
# VERIFY_ARGS is split into words on purpose (several options may be given).
# shellcheck disable=SC2086
"$SIGILCTL" verify --all --quiet --root "$REPO_DIR" $VERIFY_ARGS
verify=$?

latest=0
if [ "$LATEST_GATE" != "0" ]; then
    echo "== sigilctl verify --all --source --latest"
    "$SIGILCTL" verify --all --source --latest --quiet --root "$REPO_DIR"
    latest=$?
fi

echo "== smoke exit $smoke, verify exit $verify, latest gate exit $latest"
worst=$smoke
[ "$verify" -gt "$worst" ] && worst=$verify
[ "$latest" -gt "$worst" ] && worst=$latest
exit "$worst"
