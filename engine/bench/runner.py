"""Timing, peak memory in a fresh process, machine facts, and the benchmark table.

Times are wall-clock medians over ``repeat`` calls after one warm-up call, in
milliseconds, measured with ``time.perf_counter``. On a shared or
frequency-scaling machine, medians move between runs: by 10 to 30 % on the
2-core machine of ``benchmarks/README.md`` while other jobs ran. Compare
ratios measured in one run rather than absolute times from different runs.

Peak memory is the resident set size high-water mark (``VmHWM``, the value
``ru_maxrss`` reports) during one :func:`engine.process` call, minus the
resident size before it, in a fresh Python process that has already imported
the engine, NumPy, the backend and the decoders: it counts every allocation,
C libraries included. A second fresh process reports the ``tracemalloc``
peak, which sees only Python and NumPy allocations.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.bench.baselines import decode_floor_candidates, opencv_recipe
from engine.bench.inputs import BenchInput

__all__ = [
    "MIN_BOX_IOU",
    "BenchRow",
    "box_iou",
    "format_table",
    "machine_info",
    "measure_peak_memory",
    "rows_to_json",
    "run_bench",
    "time_call",
]

_MIB = 2**20


def time_call(function: Callable[[], Any], repeat: int, warmup: int = 1) -> list[float]:
    """Call ``function`` ``warmup`` times untimed, then ``repeat`` times; return each call's milliseconds.

    The garbage collector runs before each timed call, not during it.
    """
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000.0)
        finally:
            gc.enable()
    return times


def machine_info() -> dict[str, Any]:
    """Return the facts a benchmark table needs to be comparable: CPUs, CPU model, library versions."""
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    for module_name, label in (
        ("numpy", "numpy"),
        ("cv2", "opencv"),
        ("PIL", "pillow"),
        ("pillow_heif", "pillow_heif"),
        ("skimage", "scikit_image"),
        ("scipy", "scipy"),
        ("simplejpeg", "simplejpeg"),
    ):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        info[label] = getattr(module, "__version__", "unknown")
    try:
        import cv2

        info["opencv_threads"] = cv2.getNumThreads()
    except ImportError:
        pass
    return info


# The child of measure_peak_memory: imports everything first, then measures one call.
_MEMORY_CHILD = r"""
import json, sys, tracemalloc
from pathlib import Path

path, backend_name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
import numpy
import engine
import engine.pipeline
from backends import get_backend
from engine.decode._heif import heif_image_class

backend = get_backend(backend_name)
heif_image_class()
data = Path(path).read_bytes()


def status(field):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field + " not in /proc/self/status")


if mode == "tracemalloc":
    tracemalloc.start()
    engine.process(data, backend=backend)
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"tracemalloc_peak": peak}))
else:
    reset = True
    try:
        # "5" resets this process's RSS high-water mark (VmHWM) to its current RSS.
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        reset = False
    before = status("VmRSS")
    engine.process(data, backend=backend)
    print(json.dumps({"rss_before": before, "hwm_after": status("VmHWM"), "hwm_reset": reset}))
"""


def measure_peak_memory(path: Path, backend: str) -> dict[str, float]:
    """Return the peak memory of one ``engine.process`` call on ``path``, in MiB, from fresh processes.

    Returns
    -------
    dict
        ``rss_peak_mib``: the RSS high-water mark (``VmHWM``, what
        ``ru_maxrss`` reports) during the call, minus the RSS after imports.
        The mark is reset after imports through ``/proc/self/clear_refs``.
        Where that is refused, ``rss_hwm_reset`` is False, and an import-time
        peak above the call's own can hide it. ``tracemalloc_peak_mib``:
        peak of Python and NumPy allocations during the call, from a second
        child. ``ru_maxrss`` itself is not used because Linux carries the
        parent's high-water mark into the child across fork and exec.
    """
    results: dict[str, float] = {}
    for mode in ("rss", "tracemalloc"):
        completed = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(path), backend, mode],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"memory measurement of {path.name} with {backend} failed: {completed.stderr.strip()}")
        values = json.loads(completed.stdout.strip().splitlines()[-1])
        if mode == "rss":
            results["rss_peak_mib"] = max(0, values["hwm_after"] - values["rss_before"]) / _MIB
            results["rss_after_imports_mib"] = values["rss_before"] / _MIB
            results["rss_hwm_reset"] = bool(values["hwm_reset"])
        else:
            results["tracemalloc_peak_mib"] = values["tracemalloc_peak"] / _MIB
    return results


@dataclass
class BenchRow:
    """One line of the benchmark table: an input run by a backend, or a baseline."""

    input: str
    format: str
    megapixels: float
    method: str
    median_ms: float
    times_ms: list[float]
    floor_ms: float | None = None
    floor_method: str | None = None
    steps_ms: dict[str, float] = field(default_factory=dict)
    memory_mib: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def floor_ratio(self) -> float | None:
        if not self.floor_ms:
            return None
        return self.median_ms / self.floor_ms


def _median_steps(results: list) -> dict[str, float]:
    steps: dict[str, list[float]] = {}
    for result in results:
        for name, value in result.timings_ms.items():
            steps.setdefault(name, []).append(value)
    return {name: statistics.median(values) for name, values in steps.items()}


def run_bench(
    inputs: list[BenchInput],
    backends: list[str],
    *,
    repeat: int = 5,
    memory: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[BenchRow]:
    """Time the decode floor, the OpenCV recipe and ``engine.process`` on each input and backend.

    Every ``engine.process`` run is checked after timing: it must succeed.
    """
    import engine

    rows: list[BenchRow] = []
    say = progress or (lambda message: None)
    for item in inputs:
        data = item.read_bytes()
        base = {"input": item.name, "format": item.format, "megapixels": round(item.megapixels, 2)}

        floors = {}
        for name, decode in decode_floor_candidates(data, item.format).items():
            say(f"{item.name}: decode floor {name}")
            floors[name] = statistics.median(time_call(decode, repeat))
        floor_method = min(floors, key=floors.get) if floors else None
        floor_ms = floors[floor_method] if floor_method else None
        for name, value in floors.items():
            rows.append(BenchRow(**base, method=f"floor: {name}", median_ms=value, times_ms=[],
                                 floor_ms=floor_ms, floor_method=floor_method))

        say(f"{item.name}: OpenCV recipe")
        try:
            times = time_call(lambda: opencv_recipe(data), repeat)
            rows.append(BenchRow(**base, method="opencv recipe", median_ms=statistics.median(times),
                                 times_ms=times, floor_ms=floor_ms, floor_method=floor_method))
        except (ImportError, ValueError) as error:
            rows.append(BenchRow(**base, method="opencv recipe", median_ms=float("nan"), times_ms=[],
                                 note=f"not run: {error}"))

        for backend in backends:
            say(f"{item.name}: engine with {backend}")
            results = []

            def run_once() -> None:
                results.append(engine.process(data, backend=backend))

            times = time_call(run_once, repeat)
            row = BenchRow(**base, method=f"engine {backend}", median_ms=statistics.median(times), times_ms=times,
                           floor_ms=floor_ms, floor_method=floor_method, steps_ms=_median_steps(results[1:]))
            if item.truth_box is not None:
                row.note = _check_box(results[-1].crop_box.as_list(), item.truth_box)
            if memory:
                say(f"{item.name}: peak memory with {backend}")
                row.memory_mib = measure_peak_memory(item.path, backend)
            rows.append(row)
    return rows


# Smallest intersection over union of the crop box and the drawn ink box for a
# benchmark run to count as a real result, not a timing of a failure.
MIN_BOX_IOU = 0.8


def box_iou(a: tuple[int, int, int, int] | list[int], b: tuple[int, int, int, int] | list[int]) -> float:
    """Return the intersection over union of two ``(x, y, width, height)`` boxes."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    overlap = max(0, right - left) * max(0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - overlap
    return overlap / union if union else 0.0


def _check_box(found: list[int], truth: tuple[int, int, int, int]) -> str:
    """Return a short note when the crop box overlaps the drawn ink box by less than ``MIN_BOX_IOU``."""
    iou = box_iou(found, truth)
    return "" if iou >= MIN_BOX_IOU else f"crop {found} against drawn ink {list(truth)}: IoU {iou:.2f}"


def format_table(rows: list[BenchRow], machine: dict[str, Any] | None = None) -> str:
    """Render rows as a Markdown table: per input, the floors, the recipe and each backend."""
    lines = []
    if machine:
        lines.append(
            f"Machine: {machine.get('nproc')} CPUs, {machine.get('cpu_model')}; Python {machine.get('python')}, "
            f"NumPy {machine.get('numpy')}, OpenCV {machine.get('opencv', 'absent')}, Pillow {machine.get('pillow')}, "
            f"pillow-heif {machine.get('pillow_heif', 'absent')}, scikit-image {machine.get('scikit_image', 'absent')}."
        )
        lines.append("")
    lines.append(
        "| input | MP | method | median ms | x floor | decode | detect | deskew | binarize | render "
        "| peak RSS MiB | tracemalloc MiB | note |"
    )
    lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        ratio = f"{row.floor_ratio:.2f}" if row.floor_ratio is not None and row.median_ms == row.median_ms else ""
        steps = [f"{row.steps_ms[name]:.0f}" if name in row.steps_ms else "" for name in
                 ("decode", "detect", "deskew", "binarize", "render")]
        memory = [
            f"{row.memory_mib[key]:.1f}" if key in row.memory_mib else ""
            for key in ("rss_peak_mib", "tracemalloc_peak_mib")
        ]
        median = f"{row.median_ms:.1f}" if row.median_ms == row.median_ms else "n/a"
        lines.append(
            f"| {row.input} | {row.megapixels:.1f} | {row.method} | {median} | {ratio} | "
            + " | ".join(steps) + " | " + " | ".join(memory) + f" | {row.note} |"
        )
    return "\n".join(lines)


def rows_to_json(rows: list[BenchRow], machine: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON document ``signature-engine bench --json`` writes."""
    return {
        "machine": machine,
        "rows": [{**asdict(row), "floor_ratio": row.floor_ratio} for row in rows],
    }
