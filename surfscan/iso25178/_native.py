"""The optional compiled kernels (``_ckernels.c``) and the choice between them and numpy.

``setup.py`` builds ``surfscan/iso25178/_ckernels.c`` at install time where a
C compiler is available (declared optional: without one the install goes on
and numpy computes the same results). The kernels that use it
(:mod:`._merge_tree`, :mod:`._acf_kernels`) take ``backend="c"``,
``"numpy"`` or None, the default: ``"c"`` when the module was built, unless
``SURFSCAN_PURE_NUMPY`` is set to anything but 0.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["available", "default_backend", "compiled", "KERNELS_VERSION"]

#: The ``VERSION`` of ``_ckernels.c`` this package calls; a build of another version (stale) is ignored.
KERNELS_VERSION = 2


def _load():
    try:
        from . import _ckernels
    except ImportError:  # not built (no compiler at install time): numpy computes the same results
        return None
    if getattr(_ckernels, "VERSION", None) != KERNELS_VERSION:
        warnings.warn(
            "surfscan.iso25178._ckernels is out of date (rebuild it: pip install -e . or python setup.py build_ext "
            "--inplace); using numpy instead", RuntimeWarning, stacklevel=2,
        )
        return None
    return _ckernels


C = _load()
PURE_NUMPY = os.environ.get("SURFSCAN_PURE_NUMPY", "").strip() not in ("", "0")


def available() -> bool:
    """Whether the compiled kernels were built and can be imported."""
    return C is not None


def default_backend() -> str:
    """``"c"`` when the compiled kernels are there, ``"numpy"`` when they are not or ``SURFSCAN_PURE_NUMPY`` is
    set (to anything but 0)."""
    return "c" if C is not None and not PURE_NUMPY else "numpy"


def compiled(choice: str | None):
    """The compiled module for ``choice`` (None: :func:`default_backend`), or None for numpy."""
    choice = default_backend() if choice is None else choice
    if choice == "numpy":
        return None
    if choice != "c":
        raise ValueError(f"backend must be 'c', 'numpy' or None, not {choice!r}")
    if C is None:
        raise ImportError("the compiled kernels (surfscan.iso25178._ckernels) are not built; reinstall surfscan "
                          "with a C compiler (pip install .) or use backend='numpy'")
    return C
