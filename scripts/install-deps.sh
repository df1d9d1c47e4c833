#!/bin/sh
# install-deps.sh [build] - installs the Debian packages the build needs
# (`build`), or the build, the tests and the benchmarks need (no argument),
# when they are missing. Safe to run again: it does nothing when everything
# is there. Uses sudo when not run as root.
set -eu

BUILD="build-essential pkg-config python3 python3-yaml libmicrohttpd-dev libcjson-dev
libsqlite3-dev libpq-dev libcurl4-openssl-dev librdkafka-dev"
TEST="chromium clang libclang-rt-14-dev curl kcat sqlite3 default-jre-headless maven libcmocka-dev postgresql postgresql-client prometheus prometheus-pushgateway wrk nginx-light python3-pip valgrind"
PACKAGES="$BUILD"
[ "${1:-}" = build ] || PACKAGES="$BUILD $TEST"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "install-deps: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# Python modules: yaml for the build's YAML to JSON step (python3-yaml brings
# it for Debian's python3; a python3 of another origin gets it from pip), and
# the black-box tests' modules.
pip_install() {
    python3 -m pip install -q "$@" || python3 -m pip install -q --break-system-packages "$@"
}
python3 -c 'import yaml' 2>/dev/null || pip_install pyyaml

# npm fetches the GraphQL playground for the build; Node.js also runs graphql-js, the
# reference of the GraphQL differential tests.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: installing Node.js"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

[ "${1:-}" = build ] && exit 0

# Debian's prometheus packages start servers; the tests start their own.
for unit in prometheus prometheus-pushgateway; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
        systemctl stop "$unit" 2>/dev/null || true
    fi
done

if ! python3 -c 'import pytest, jsonschema, openapi_spec_validator' 2>/dev/null; then
    echo "install-deps: installing Python modules for the tests"
    pip_install pytest jsonschema openapi-spec-validator
fi
