#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# Node.js and npm run axe-core and Lighthouse (package.json) in the browser tests and benchmarks.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# stress-ng loads the machine for the busy-machine run of the suite (issue 11, README Status).
command -v stress-ng >/dev/null 2>&1 || need+=(stress-ng)
{ command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || need+=(postgresql)
# Noto fonts draw Bengali and Gujarati in screenshots and browser tests. (No `grep -q` on a
# pipe: with pipefail, fc-list dying of SIGPIPE would read as "missing".)
[ -n "$(fc-list 2>/dev/null | grep -i 'Noto Sans Bengali')" ] || need+=(fonts-noto-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 0
fi
echo "Installing Debian packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
