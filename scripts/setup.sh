#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Debian packages (when root), the virtualenv with
# the project and its dev tools, and a running PostgreSQL for the server tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# chromium: the browser the office's Playwright tests drive (`playwright install` needs the internet).
# libpango*: what WeasyPrint draws the registers' PDFs with.
for pkg in socat tmux libusb-1.0-0 chromium libpango-1.0-0 libpangoft2-1.0-0; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]} (apt-get install as root)" >&2
  fi
fi

stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: creating .venv and installing the project"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -U pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi

if [ "${1:-}" = "--postgres" ] && command -v pg_isready >/dev/null; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "setup: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
