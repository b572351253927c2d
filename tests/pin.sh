#!/usr/bin/env bash
# Refresh tests/constraints.txt deliberately: build .venv-latest from the newest releases, run the
# whole suite there, and only when it passes write its exact versions as the new pins. Commit the
# changed constraints file on its own, with the suite's result in the message.
#   usage: bash tests/pin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh --latest
.venv-latest/bin/python -m pytest -q
{
  sed -n '1,4p' tests/constraints.txt
  echo "pip==$(.venv-latest/bin/python -m pip --version | cut -d' ' -f2)"
  { .venv-latest/bin/python -m pip freeze --exclude-editable | grep -v '^#'
    echo "setuptools==$(.venv-latest/bin/python -c 'import setuptools; print(setuptools.__version__)')"
  } | sort -f -t= -k1,1
} > tests/constraints.txt.new
mv tests/constraints.txt.new tests/constraints.txt
echo "pin: tests/constraints.txt now holds the versions of .venv-latest; review 'git diff tests/constraints.txt' and commit"
