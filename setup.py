"""Build script for the optional compiled kernels; everything else is declared in pyproject.toml.

``surfscan/iso25178/_ckernels.c`` speeds up the merge tree of the feature
parameters. It is declared ``optional``: where it cannot be compiled (no C
compiler), the install goes on without it and surfscan computes the same
results in numpy (``SURFSCAN_PURE_NUMPY=1`` selects numpy even when the
extension is there). The C source uses only the CPython API and the buffer
protocol, so no numpy headers are needed to build it.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("surfscan.iso25178._ckernels", ["surfscan/iso25178/_ckernels.c"], optional=True),
    ],
)
