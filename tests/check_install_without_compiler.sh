#!/usr/bin/env bash
# Checks that `pip install .` works on a machine without a C compiler and that the numpy fallback then
# computes every ISO 25178 parameter (issue 15). The compiled kernels (surfscan/iso25178/_ckernels.c) are an
# optional extension: setup.py declares them optional=True, so a failed compile must leave a working install.
#   usage: bash tests/check_install_without_compiler.sh     (needs the network for the dependencies; minutes)
# It copies the working tree's files (tracked and untracked, not ignored: no build/ and no compiled module)
# to a temporary folder, installs that copy into a fresh venv with CC=false (every compile fails), and runs
# all 43 parameters on the sample map in that venv; it fails if the extension got built or a value is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 cp --parents -t "$work/src")
py=${PYTHON:-python3}
"$py" -m venv "$work/venv"
CC=false CXX=false LDSHARED=false "$work/venv/bin/python" -m pip install -q "$work/src" 2>&1 | tee "$work/pip.log" | tail -3
if find "$work/venv" -name '_ckernels*.so' | grep -q .; then
  echo "check: FAILED, the extension was built although every compile fails" >&2
  exit 1
fi
cd "$work"  # not the source tree: import the installed package
"$work/venv/bin/python" - "$root/sample_images/electrode_A_good_site2.x3p" <<'PY'
import math, sys
import surfscan as ss
from surfscan.iso25178 import _native
assert not _native.available() and _native.default_backend() == "numpy", "compiled kernels present"
s = ss.level(ss.read(sys.argv[1]), "plane")
values = ss.roughness(s, undefined="nan")
assert len(values) == len(ss.parameters()) == 43, len(values)
print("check: installed without a compiler; numpy computed", sum(math.isfinite(v) for v in values.values()),
      "of", len(values), "parameters:", ", ".join(f"{k}={v:.4g}" for k, v in list(values.items())[:6]), "...")
PY
