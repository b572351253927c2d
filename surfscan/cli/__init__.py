"""The ``surfscan`` command line: thin sub-commands over the library.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors print one line naming the file and the reason;
``--debug`` prints the traceback too.

Start-up cost: a sub-command module imports only the standard library and
:mod:`surfscan.cli.common` at its top; the library modules it needs (readers,
parameters, pandas, scikit-image ...) are imported inside its ``run``. So
``surfscan --help`` and every command pay only for the command that runs
(``tests/test_startup.py`` guards this).
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
    "protrusions",
    "particles",
    "porosity",
    "batch",
    "report",
]

#: Old command names kept for one release: old name -> current name. They are not listed by --help and print a
#: deprecation note on stderr when used.
_DEPRECATED_COMMANDS = {"defects": "protrusions"}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="surfscan",
        description="Roughness, protrusions and particles from SEM micrographs and 3D height maps of coatings.",
    )
    parser.add_argument("--version", action="version", version=f"surfscan {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        mod = importlib.import_module(f"{__name__}.{name}")
        _finish(mod.add_parser(sub), mod)
    for old, new in _DEPRECATED_COMMANDS.items():
        mod = importlib.import_module(f"{__name__}.{new}")
        p = _finish(mod.add_parser(sub, name=old), mod)  # no help= : argparse then leaves it out of the list
        p.set_defaults(_deprecated=f"'surfscan {old}' is deprecated and will be removed in the next release; "
                                   f"use 'surfscan {new}'")
    return parser


def _finish(p: argparse.ArgumentParser, mod) -> argparse.ArgumentParser:  # noqa: ANN001 - a cli module
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="print tracebacks on errors")
    p.set_defaults(_run=mod.run)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surfscan`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    for note in [getattr(args, "_deprecated", None), *getattr(args, "_deprecated_options", ())]:
        if note:
            print(f"surfscan: note: {note}", file=sys.stderr)
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
    except Exception as exc:  # must be broad: the last resort turns any bug into one line (traceback with --debug)
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
