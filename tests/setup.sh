#!/usr/bin/env bash
# Installs what the surfscan test suite needs into ./.venv (and, when run as root on
# Debian/Ubuntu, the system packages: Xvfb for the napari tests, Gwyddion's C library
# for the oracle tests). Safe to run again; each step is skipped when already done.
#   usage: bash tests/setup.sh            then: .venv/bin/python -m pytest
#          bash tests/setup.sh --latest   then: .venv-latest/bin/python -m pytest
# The default environment is pinned: every package at the version in tests/constraints.txt, the
# versions the suite was last green with, so a release of a dependency cannot turn it red on its own.
# --latest builds .venv-latest from the newest releases instead (what a new user gets today), to learn
# about an upstream change before a user does; tests/pin.sh refreshes the pins from it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
pins=(-c tests/constraints.txt)
case "${1:-}" in
  "") ;;
  --latest) venv=.venv-latest; pins=(--upgrade --upgrade-strategy eager) ;;
  *) echo "usage: bash tests/setup.sh [--latest]" >&2; exit 2 ;;
esac

apt_packages=(
  # napari under a virtual X server
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1
  libdbus-1-3 libfontconfig1
  # Gwyddion oracle (../shared/tools/gwyddion-oracle): the library and what its pkg-config names
  gcc pkg-config libgwyddion20-dev libglib2.0-dev libgtk2.0-dev libfftw3-dev libpango1.0-dev
  libgtkglext1-dev
  # surfscan's optional compiled kernels (surfscan/iso25178/_ckernels.c, built by the editable install below)
  python3-dev
)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root (or no apt-get): system packages not installed; GUI and Gwyddion tests may skip"
fi

py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
# pip, and setuptools for the tests that build the optional compiled kernels with `setup.py build_ext`
# (the licence is an SPDX string: setuptools >= 77; newer venvs bring no setuptools at all)
if [ "$venv" = .venv ]; then
  "$venv/bin/python" -m pip install -q "$(grep '^pip==' tests/constraints.txt)" "$(grep '^setuptools==' tests/constraints.txt)"
else
  "$venv/bin/python" -m pip install -q --upgrade pip setuptools
fi
"$venv/bin/python" -m pip install -q "${pins[@]}" -e ".[all]"
echo "setup: done in $venv ($("$venv/bin/python" --version); $("$venv/bin/python" -m pip --version | cut -d' ' -f1-2))"
