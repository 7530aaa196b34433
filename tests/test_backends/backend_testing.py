"""Helpers shared by the backend tests: which backends are installed, and how to compare results."""

from __future__ import annotations

import importlib.util

import numpy as np

# Backends compared with the OpenCV reference, and the modules each needs.
CANDIDATES = {"skimage": ("skimage", "scipy"), "pillow": ("PIL",)}
REQUIREMENTS = {"opencv": ("cv2",), **CANDIDATES}


def installed(name: str) -> bool:
    """Tell whether every module that backend ``name`` needs can be found."""
    return all(importlib.util.find_spec(module) is not None for module in REQUIREMENTS[name])


def f_measure(truth: np.ndarray, found: np.ndarray) -> float:
    """Return the F-measure (harmonic mean of precision and recall) of bool mask ``found`` against ``truth``.

    Two empty masks agree perfectly (1.0).
    """
    hits = int(np.count_nonzero(truth & found))
    truth_count = int(np.count_nonzero(truth))
    found_count = int(np.count_nonzero(found))
    if truth_count == 0 and found_count == 0:
        return 1.0
    if hits == 0:
        return 0.0
    precision = hits / found_count
    recall = hits / truth_count
    return 2.0 * precision * recall / (precision + recall)


def same_partition(labels_a: np.ndarray, labels_b: np.ndarray) -> bool:
    """Tell whether two label images split the pixels into the same groups, whatever the numbering."""
    a = labels_a.ravel().astype(np.int64)
    b = labels_b.ravel().astype(np.int64)
    pairs = np.unique(a * (int(b.max()) + 1) + b).size
    return pairs == np.unique(a).size == np.unique(b).size


def label_mapping(labels_a: np.ndarray, labels_b: np.ndarray, count: int) -> np.ndarray:
    """Return, for each label of ``labels_a`` (0 to ``count - 1``), the label of the same component in ``labels_b``."""
    mapping = np.zeros(count, dtype=np.int64)
    mapping[labels_a.ravel()] = labels_b.ravel()
    return mapping
