#!/usr/bin/env bash
# The dashboard's browser test drives Debian's chromium (never a downloaded browser build:
# `playwright install` cannot work offline). Install it when missing and we are root (CI here
# is root); otherwise say how, and the browser test skips with the same advice.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: installing Debian's chromium for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null
else
  echo "ensure_chromium: no chromium; the dashboard's browser test will be skipped." >&2
  echo "  install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
fi
