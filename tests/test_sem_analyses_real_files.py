"""Every SEM analysis on every real SEM file in ../shared/data/real/sem: a result or one clear error, quickly.

These files are not coatings (a chamber view through a port, a blank frame, vendor test images), which is
the point: an analysis must neither crash nor hang on what a lab happens to load. Before the disc morphology
of ``surfscan.protrusions.morphology``, the chamber view took 122 s in ``detect_protrusions``: its texture
grain could not be resolved, and a disc as wide as 2.5 images was dilated pixel by pixel.
"""

from __future__ import annotations

import time
import warnings

import pytest
from test_sem_real import _sem_entries

import surfscan as ss
from surfscan.errors import SurfscanError, SurfscanWarning

#: far above the 0.1-2.5 s these files take; only a hang or a size-dependent blow-up reaches it
NEVER_SLOWER_S = 30.0


@pytest.mark.parametrize("name", _sem_entries())
@pytest.mark.parametrize("analysis", ["detect_protrusions", "measure_particles"])
def test_sem_analysis_gives_a_result_or_a_clear_error(name, analysis, real_dir):
    m = ss.read(real_dir / "sem" / name)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurfscanWarning)
        try:
            found = getattr(ss, analysis)(m)
        except SurfscanError as err:
            assert str(err)  # one sentence saying why, no traceback of internals
            found = None
    assert time.perf_counter() - t0 < NEVER_SLOWER_S
    if found is not None:
        assert found.summary["count"] == len(found.table) >= 0
        assert found.labels.shape == m.shape
