#!/usr/bin/env bash
# Installs what the surfscan test suite needs into ./.venv (and, when run as root on
# Debian/Ubuntu, the system packages: Xvfb for the napari tests, Gwyddion's C library
# for the oracle tests). Safe to run again; each step is skipped when already done.
#   usage: bash tests/setup.sh        then: .venv/bin/python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  # napari under a virtual X server
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1
  libdbus-1-3 libfontconfig1
  # Gwyddion oracle (../shared/tools/gwyddion-oracle): the library and what its pkg-config names
  gcc pkg-config libgwyddion20-dev libglib2.0-dev libgtk2.0-dev libfftw3-dev libpango1.0-dev
  libgtkglext1-dev
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
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all]"
echo "setup: done ($(.venv/bin/python --version))"
