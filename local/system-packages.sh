#!/usr/bin/env bash
# The machine's own packages that `make run` and `make test` need, in one place (make and .ci/run call it).
#
#   bash local/system-packages.sh run    make, Java 17 (DynamoDB Local runs on it), Node.js 20 with npm (installs it)
#   bash local/system-packages.sh test   the same, plus Debian's Chromium and Japanese fonts (browser tests) and
#                                        SpamAssassin (every kind of mail is scored by its rules)
#
# What is missing is installed with apt-get when this runs as root on a machine that has it (one
# `apt-get update` first); anywhere else it stops and prints the exact command to run.
set -euo pipefail

purpose="${1:-test}"
missing=()

command -v make >/dev/null 2>&1 || missing+=(make)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "$purpose" = test ]; then
  # Playwright cannot download its own browser here: the browser tests drive Debian's Chromium.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # Without CJK fonts Japanese renders as boxes, and axe's contrast checks and the screenshots mean nothing.
  # Read whole before matching: `grep -q` stops early, and under pipefail the writer's SIGPIPE fails the test.
  fonts="$(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null || true)"
  command -v fc-list >/dev/null 2>&1 && fonts="$fonts $(fc-list 2>/dev/null || true)"
  case "$fonts" in *"install ok installed"* | *"Noto Sans CJK"*) ;; *) missing+=(fonts-noto-cjk) ;; esac
  # Its rules come in the package (no sa-update, which would need the network): tests/test_spam.py.
  command -v spamassassin >/dev/null 2>&1 || missing+=(spamassassin)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing what this machine lacks: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi

echo "make $purpose needs packages this machine lacks: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "Install them, then run make $purpose again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
else
  echo "Install them with your system's package manager (Debian names shown), then run make $purpose again." >&2
fi
exit 1
