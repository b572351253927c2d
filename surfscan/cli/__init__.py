"""The ``surfscan`` command line: thin sub-commands over the library.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors print one line naming the file and the reason;
``--debug`` prints the traceback too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from .. import __version__
from ..errors import SurfscanError
from .common import report_error

__all__ = ["main", "build_parser"]

# module name in surfscan.cli -> one sub-command each, in the order shown by --help
_COMMANDS = [
    "info",
    "roughness",
    "profile",
    "curves",
    "formats",
    "params",
    "defects",
    "particles",
    "porosity",
    "batch",
    "report",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="surfscan",
        description="Roughness, defects and particles from SEM micrographs and 3D height maps of coatings.",
    )
    parser.add_argument("--version", action="version", version=f"surfscan {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        mod = importlib.import_module(f"{__name__}.{name}")
        p = mod.add_parser(sub)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="print tracebacks on errors")
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surfscan`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    debug = getattr(args, "debug", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = _run(args, debug)
        finally:
            _print_warnings(caught)
    return code


def _run(args: argparse.Namespace, debug: bool) -> int:
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("surfscan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except SurfscanError as exc:
        report_error(None, exc, debug)
        return 1
    except Exception as exc:  # last resort: still one line unless --debug
        report_error(None, exc, debug)
        return 1


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Each distinct warning once, as one line on stderr (library deprecation noise dropped)."""
    seen = set()
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        text = str(w.message)
        if text not in seen:
            seen.add(text)
            print(f"surfscan: warning: {text}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
