#!/usr/bin/env bash
# Checks the system packages the tests and benchmarks use, installs what is missing when run as
# root with apt-get (Debian 12), or names exactly what is missing and fails.
set -euo pipefail
PG_BIN=${VIGIL_PG_BIN:-/usr/lib/postgresql/15/bin}
# binary -> Debian package
declare -A need=(
  [psql]=postgresql-client
  [pgbench]=postgresql-client
  [redis-server]=redis-server
  ["$PG_BIN/initdb"]=postgresql-15
  ["$PG_BIN/postgres"]=postgresql-15
  [/usr/bin/chromium]=chromium
  [/usr/sbin/sshd]=openssh-server
  [ssh]=openssh-client
  [scp]=openssh-client
  [tmux]=tmux
)
missing=()
for bin in "${!need[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then missing+=("${need[$bin]}"); fi
done
# Optional, for the benchmark only.
if [ "${1:-}" = "--bench" ] && ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then missing+=(pgbouncer); fi
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: $pkgs" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >&2
else
  echo "missing system packages: $pkgs (install them with: sudo apt-get install $pkgs)" >&2
  exit 1
fi
