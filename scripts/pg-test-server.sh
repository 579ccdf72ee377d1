#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server (Debian's binaries; initdb runs as the postgres user when
# run as root), prints its URL, and stops and deletes it when you press Enter. For example:
#   scripts/pg-test-server.sh   # then, in another shell:
#   KB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/postgres .venv/bin/pytest tests/test_analytics_store.py
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m tests.pg_server
