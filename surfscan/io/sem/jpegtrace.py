"""Has an 8-bit frame been through JPEG? The 8 x 8 DCT coefficients of JPEG-decoded data sit on a lattice.

JPEG stores each block's DCT coefficients as multiples of per-coefficient
quantisation steps; decoding and rounding to integers keep the coefficients
of the decoded blocks within about one level of those multiples, so their
phase ``c / q`` is coherent at the coefficient's step ``q``. Uncompressed data
give a smooth coherence curve over ``q``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["jpeg_compressed"]

_BLOCK = 8
_DCT_BLOCKS = 600  # textured blocks sampled
_LATTICE = 0.18  # peak of phase coherence over its neighbouring steps: a quantisation lattice
_DCT_TERMS = ((0, 1), (1, 0), (1, 1), (2, 2), (3, 3), (0, 4), (4, 0), (4, 4), (2, 5), (5, 2))
_QUANT_STEPS = np.arange(2, 41, dtype=np.float32)


def _dct_basis() -> np.ndarray:
    k, n = np.meshgrid(np.arange(_BLOCK), np.arange(_BLOCK), indexing="ij")
    basis = np.sqrt(np.where(k == 0, 1.0, 2.0) / _BLOCK) * np.cos((2 * n + 1) * k * np.pi / (2 * _BLOCK))
    return basis.astype(np.float32)


_DCT = _dct_basis()  # orthonormal 8-point DCT-II: JPEG's coefficient scale


def jpeg_compressed(grey: np.ndarray, start: int = 0) -> bool:
    """The 8-bit frame went through JPEG: its 8 x 8 block DCT coefficients sit on a quantisation lattice.

    JPEG stores each coefficient as a multiple of its quantisation step;
    decoding and rounding keep the coefficients of the decoded blocks within
    about one level of those multiples. For each of a few coefficients the
    phase coherence ``|mean(exp(2 pi i c / q))|`` over the textured blocks is
    computed for steps q = 2..40: a lattice gives a sharp peak at its step,
    uncompressed data a smooth curve. Blocks are taken on the grid from the
    frame's corner (``start`` is a multiple of 8).
    """
    a = np.asarray(grey[start:], dtype=np.float32)
    if grey.dtype != np.uint8 and not (grey.dtype.kind == "f" and 2.0 < float(np.nanmax(a)) <= 255.5):
        return False
    h, w = a.shape[0] // _BLOCK * _BLOCK, a.shape[1] // _BLOCK * _BLOCK
    blocks = a[:h, :w].reshape(h // _BLOCK, _BLOCK, w // _BLOCK, _BLOCK).swapaxes(1, 2).reshape(-1, _BLOCK, _BLOCK)
    textured = np.flatnonzero(blocks.reshape(len(blocks), -1).std(axis=1) > 1.0)
    if textured.size < 30:
        return False
    textured = textured[:: max(1, textured.size // _DCT_BLOCKS)]
    coef = _DCT @ np.nan_to_num(blocks[textured]) @ _DCT.T
    w_q = (2 * np.pi / _QUANT_STEPS)[:, None]
    for u, v in _DCT_TERMS:
        c = coef[:, u, v]
        c = np.unique(np.round(c[np.abs(c) >= 1.0], 2))  # repeated blocks (lines) count once
        if c.size < 30:
            continue
        phase = w_q * c[None, :]
        coherence = np.hypot(np.cos(phase).mean(axis=1), np.sin(phase).mean(axis=1))
        if float(np.max(coherence[1:-1] - 0.5 * (coherence[:-2] + coherence[2:]))) >= _LATTICE:
            return True
    return False
