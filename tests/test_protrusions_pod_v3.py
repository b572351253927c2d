"""Issue 13 floors for SEM protrusions on the third independent generator (``sem_protrusion_scenes_v3``).

Its substrates include cellular grains with bright boundaries and scratches, and its rim domes carry
their contrast on the bright edge ring (their plateau at 0.26-0.41 of it). The floors are checked on the
first scenes of each of the bench's sets (``bench/bench_sem_pod_v3.py``) drawn at this file's own seed
(drawn at random once with ``secrets``): all 24 scenes at contrast 2 and all 60 object-free ones, 10 and
8 of the two others, cycling the pixel size through 0.01, 0.1 and 2 µm. Rim domes at contrast 2 are the
detector's known weakness (recall about 0.5, see docs/protrusions.md): the 60 px floor is asserted on the
other profiles, and the rim domes keep a regression guard.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
from sem_protrusion_scenes import detection_matches
from sem_protrusion_scenes_v3 import make_scene, scene_list, truth_table

import surfscan as ss
from surfscan.errors import SurfscanWarning

SEED = 1099383414
PIXEL_SIZES = (0.01, 0.1, 2.0)
SAMPLE = {"large_high_contrast": 10, "large_contrast_2": 24, "small_mid_contrast": 8, "empty": 60}


@cache
def _results(set_name: str) -> list[tuple[list[dict], np.ndarray, int, int, str]]:
    """Per scene of the sample of ``set_name``: domes, found flags, detections, false detections, texture."""
    scenes = [s for s in scene_list(SEED) if s["set"] == set_name][:SAMPLE[set_name]]
    out = []
    for k, s in enumerate(scenes):
        image, domes, _ = make_scene(s["seed"], s["kind"], s["specs"])
        px = PIXEL_SIZES[k % len(PIXEL_SIZES)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            table = ss.detect_protrusions(ss.Micrograph(image, px, {})).table
        near = detection_matches(table, truth_table(domes), px)
        out.append((domes, near.any(axis=0), near.shape[0], int((~near.any(axis=1)).sum()), s["kind"]))
    return out


def _recall(set_name: str, pick) -> tuple[float, int, int]:
    flags = [f for domes, found, *_ in _results(set_name) for d, f in zip(domes, found) if pick(d)]
    return float(np.mean(flags)), int(np.sum(flags)), len(flags)


def test_objects_40_px_and_more_at_contrast_3_and_more():
    rec, k, n = _recall("large_high_contrast", lambda d: d["D"] >= 40 and d["C"] >= 3)
    assert n >= 40 and rec >= 0.95, f"recall {rec:.3f} ({k}/{n})"


def test_objects_60_px_and_more_at_contrast_2_other_than_rim_domes():
    rec, k, n = _recall("large_contrast_2", lambda d: d["profile"] != "rim")
    assert n >= 40 and rec >= 0.90, f"recall {rec:.3f} ({k}/{n})"


def test_rim_domes_at_contrast_2_keep_their_recall():
    # a known shortfall: the plateau of these domes is only 0.5-0.8 x the texture rms; 0.578 (52/90) here
    rec, k, n = _recall("large_contrast_2", lambda d: d["profile"] == "rim")
    assert n >= 15 and rec >= 0.45, f"recall {rec:.3f} ({k}/{n})"


def test_objects_16_to_40_px_at_contrast_2p5_to_4():
    rec, k, n = _recall("small_mid_contrast", lambda d: True)
    det = sum(r[2] for r in _results("small_mid_contrast"))
    false = sum(r[3] for r in _results("small_mid_contrast"))
    assert det, "no detection at all"
    assert 1 - false / det >= 0.90, f"precision {1 - false / det:.3f} ({false} false of {det})"
    assert rec >= 0.35, f"recall {rec:.3f} ({k}/{n})"


def test_object_free_scenes_stay_clean():
    dirty = [(i, r[4]) for i, r in enumerate(_results("empty")) if r[2]]
    assert len(dirty) <= 0.05 * SAMPLE["empty"], f"detections on object-free scenes {dirty}"


def test_cellular_object_free_scenes_stay_clean() -> None:
    # cells of random brightness are as wild on the dark side as on the bright one: where a scale has few maxima
    # their rare bright extremes come from the minima's tail (scalespace._lower_tail_heaviness). Seed 6's twelve
    # object-free cellular scenes had a detection on 3 without it (blobs at 1.05-1.13 of their threshold), 1 with it
    scenes = [s for s in scene_list(6) if s["set"] == "empty" and s["kind"] == "cellular"]
    assert len(scenes) == 12
    dirty = 0
    for s in scenes:
        image, _, _ = make_scene(s["seed"], s["kind"], s["specs"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurfscanWarning)
            dirty += len(ss.detect_protrusions(ss.Micrograph(image, 0.1, {})).table) > 0
    assert dirty <= 1, dirty
