#!/usr/bin/env bash
# The system packages the code sandbox needs (Debian names): installed when missing and
# this user can (root, or sudo without a password); otherwise the exact command to run.
# `make system` runs it (so `make run`, `make console` and `make test` do), and so does
# .ci/run, with --ci.
#
#   scripts/system-packages.sh         bubblewrap, python3.11 (/usr/bin/python3.11, the
#                                      sandbox's interpreter), libseccomp2
#   scripts/system-packages.sh --ci    the same and postgresql-client (CI's pg_isready)
#
# It never fails the build: without these packages the bot still runs (members' code is
# refused with the reason) and the tests still run (the sandbox tests are skipped, and the
# end of pytest's output says how many and why). Silent when nothing is missing.
set -u

packages=(bubblewrap python3.11 libseccomp2)
case "${1:-}" in
  "") ;;
  --ci) packages+=(postgresql-client) ;;
  *) echo "usage: $0 [--ci]" >&2; exit 2 ;;
esac

# Is a package there? Debian's package database when there is one; elsewhere what the
# sandbox actually looks for.
has() {
  if command -v dpkg-query >/dev/null 2>&1; then
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
    return
  fi
  case "$1" in
    bubblewrap) command -v bwrap >/dev/null 2>&1 ;;
    python3.11) [ -x /usr/bin/python3.11 ] ;;
    libseccomp2) { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q libseccomp.so.2 ;;
    postgresql-client) command -v pg_isready >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

missing=()
for package in "${packages[@]}"; do
  has "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

say() { echo "studybot: $*"; }

explain() {  # $1: why it was not installed; then the command to run and what happens meanwhile
  say "the code sandbox needs these system packages: ${missing[*]}"
  say "$1; install them, then run this again:"
  if command -v apt-get >/dev/null 2>&1; then
    local sudo="sudo "
    [ "$(id -u)" = 0 ] && sudo=""
    echo "    ${sudo}apt-get update && ${sudo}apt-get install -y ${missing[*]}"
  else
    echo "    (no apt-get here) install bubblewrap, Python 3.11 as /usr/bin/python3.11 and libseccomp with this system's package manager"
  fi
  say "until then members' code is refused, lessons do not run and the sandbox tests are skipped"
}

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  explain "installing them needs root (or sudo without a password)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  explain "there is no apt-get to install them with"
  exit 0
fi

log=$(mktemp "${TMPDIR:-/tmp}/studybot-system-packages.XXXXXX")
say "installing the sandbox's system packages: ${missing[*]} (log: $log)"
apt() { ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1; }
if apt update -qq && apt install -y -qq --no-install-recommends "${missing[@]}"; then
  rm -f "$log"
  say "installed ${missing[*]}"
else
  tail -n 20 "$log" | sed 's/^/    /'
  explain "apt-get failed (the whole log is in $log)"
fi
exit 0
