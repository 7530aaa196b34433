"""Grid and random search over the engine's parameters on a sample set.

A search space is a TOML file::

    [search]
    method = "random"        # "grid" or "random"
    trials = 24              # random search: number of trials
    seed = 0                 # random search: seed of the draws
    objective = "composite"  # see OBJECTIVES
    base = "default"         # profile name or path the trials start from

    [params]
    ink_threshold = [0.18, 0.22, 0.26]               # a list: pick among these values
    background_kernel = { low = 15, high = 61 }      # a range: uniform draw (ints stay ints)
    noise_factor = { low = 3.0, high = 9.0, steps = 4 }  # a grid needs steps for a range

Keys under ``[params]`` are :class:`engine.params.Params` field names. Trial 0
is always the base profile unchanged, so the table shows where the search
started. A trial whose values break a parameter rule (a value out of range,
``ink_threshold_low`` above ``ink_threshold``) is recorded as ``invalid``.

Trials run in local worker processes (``concurrent.futures``), or on a Dask
distributed cluster when a scheduler address is given. Each trial scores the
whole set with :func:`engine.evaluation.runner.evaluate_set`.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import sys
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from engine.errors import InvalidParameter, SignatureEngineError
from engine.evaluation.baselines import MethodSpec
from engine.params import PROFILES_DIR, Params, resolve_params

__all__ = [
    "MAX_GRID_TRIALS",
    "OBJECTIVES",
    "SearchSpace",
    "composite_score",
    "run_search",
    "run_trial",
    "write_trials_csv",
]

MAX_GRID_TRIALS = 5000
SUMMARY_COLUMNS = (
    "fm", "psnr", "drd", "skew_mean", "skew_p95", "iou", "kept_whole", "gate_accuracy", "time_ms",
)


def composite_score(summary: dict[str, Any]) -> float:
    """Return the default objective, in [0, 100], higher is better.

    For signature sets: ``0.5 * FM + 25 * kept_whole + 15 * gate_accuracy +
    10 * max(0, 1 - skew_mean / 10)``, so half the weight is ink quality, a quarter
    is keeping the whole signature, and the rest is the quality gate and the
    residual skew (no credit at 10 degrees or more). For binarisation sets, FM.
    Missing values count as 0.
    """
    def value(key: str) -> float:
        number = summary.get(key)
        return float(number) if number is not None and math.isfinite(number) else 0.0

    if summary.get("gate_accuracy") is None:
        return value("fm")
    skew = summary.get("skew_mean")
    skew_credit = max(0.0, 1.0 - float(skew) / 10.0) if skew is not None and math.isfinite(skew) else 0.0
    return 0.5 * value("fm") + 25.0 * value("kept_whole") + 15.0 * value("gate_accuracy") + 10.0 * skew_credit


# name -> (function of the overall summary, sign): scores are maximised after the sign.
OBJECTIVES: dict[str, tuple[Callable[[dict[str, Any]], float], float]] = {
    "composite": (composite_score, 1.0),
    "fm": (lambda s: s.get("fm"), 1.0),
    "psnr": (lambda s: s.get("psnr"), 1.0),
    "drd": (lambda s: s.get("drd"), -1.0),
    "iou": (lambda s: s.get("iou"), 1.0),
    "kept_whole": (lambda s: s.get("kept_whole"), 1.0),
    "gate_accuracy": (lambda s: s.get("gate_accuracy"), 1.0),
    "skew_mean": (lambda s: s.get("skew_mean"), -1.0),
}


class InvalidSearchSpace(SignatureEngineError):
    """A search-space file cannot be read or breaks the format."""

    code = "invalid_search_space"
    message_fr = "Espace de recherche invalide ({value}) : {reason}."
    message_en = "Invalid search space ({value}): {reason}."

    def __init__(self, value: Any, *, reason: str) -> None:
        super().__init__(value, reason=reason)


@dataclass
class Dimension:
    """One searched parameter: a list of values, or a range ``[low, high]`` with optional grid steps."""

    name: str
    integer: bool
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None

    def grid(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.steps is None:
            raise InvalidSearchSpace(self.name, reason="a range needs `steps` for a grid search")
        points = np.linspace(self.low, self.high, self.steps)
        return [self._cast(point) for point in points]

    def draw(self, rng: np.random.Generator) -> Any:
        if self.values is not None:
            return self.values[int(rng.integers(0, len(self.values)))]
        return self._cast(rng.uniform(self.low, self.high))

    def _cast(self, value: float) -> Any:
        return int(round(value)) if self.integer else round(float(value), 6)


@dataclass
class SearchSpace:
    """A parsed search-space file."""

    method: str = "random"
    trials: int = 20
    seed: int = 0
    objective: str = "composite"
    base: str = "default"
    dimensions: list[Dimension] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Read a search space from a TOML file.

        Raises
        ------
        InvalidSearchSpace
            If the file is missing, is not TOML, or names an unknown parameter,
            method or objective.
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise InvalidSearchSpace(str(path), reason=f"cannot read the file: {error}") from error
        except tomllib.TOMLDecodeError as error:
            raise InvalidSearchSpace(str(path), reason=f"invalid TOML: {error}") from error
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "space") -> SearchSpace:
        search = data.get("search", {})
        space = cls(
            method=str(search.get("method", "random")),
            trials=int(search.get("trials", 20)),
            seed=int(search.get("seed", 0)),
            objective=str(search.get("objective", "composite")),
            base=str(search.get("base", "default")),
        )
        if space.method not in ("grid", "random"):
            raise InvalidSearchSpace(source, reason=f'method {space.method!r}, expected "grid" or "random"')
        if space.objective not in OBJECTIVES:
            raise InvalidSearchSpace(
                source, reason=f"objective {space.objective!r}, expected one of {', '.join(OBJECTIVES)}"
            )
        if space.trials < 1:
            raise InvalidSearchSpace(source, reason=f"trials {space.trials}, expected 1 or more")

        tunables = {spec.name: spec for spec in dataclasses.fields(Params) if "range" in spec.metadata}
        params = data.get("params", {})
        if not params:
            raise InvalidSearchSpace(source, reason="no [params] table: nothing to search")
        for name, entry in params.items():
            if name not in tunables:
                raise InvalidSearchSpace(
                    source, reason=f"unknown parameter {name!r}; tunables: {', '.join(sorted(tunables))}"
                )
            integer = tunables[name].type in ("int", int)
            if isinstance(entry, list):
                if not entry:
                    raise InvalidSearchSpace(source, reason=f"{name}: empty list of values")
                space.dimensions.append(Dimension(name, integer, values=list(entry)))
            elif isinstance(entry, dict) and "low" in entry and "high" in entry:
                low, high = float(entry["low"]), float(entry["high"])
                if not low <= high:
                    raise InvalidSearchSpace(source, reason=f"{name}: low {low} is above high {high}")
                steps = int(entry["steps"]) if "steps" in entry else None
                space.dimensions.append(Dimension(name, integer, low=low, high=high, steps=steps))
            else:
                raise InvalidSearchSpace(
                    source, reason=f"{name}: expected a list of values or {{ low = ..., high = ... }}"
                )
        return space

    def candidates(self) -> Iterator[dict[str, Any]]:
        """Yield the parameter values of each trial after trial 0 (the base profile)."""
        if self.method == "grid":
            grids = [dimension.grid() for dimension in self.dimensions]
            total = math.prod(len(grid) for grid in grids)
            if total > MAX_GRID_TRIALS:
                raise InvalidSearchSpace(
                    "grid", reason=f"{total} combinations, over the {MAX_GRID_TRIALS} limit: use random search"
                )
            for combination in itertools.product(*grids):
                yield {dimension.name: value for dimension, value in zip(self.dimensions, combination)}
        else:
            rng = np.random.default_rng(self.seed)
            for _ in range(self.trials):
                yield {dimension.name: dimension.draw(rng) for dimension in self.dimensions}


def run_trial(
    set_path: str,
    item_ids: list[str] | None,
    trial: int,
    base: dict[str, Any],
    values: dict[str, Any],
    objective: str,
    backend: str | None = None,
) -> dict[str, Any]:
    """Score one parameter set on a sample set; return one row of the trials table.

    Runs in a worker process or on a Dask worker, so it takes and returns plain data.
    """
    from engine.evaluation.runner import evaluate_set
    from samples.manifest import SampleSet

    row: dict[str, Any] = {"trial": trial, **values}
    try:
        params = Params.from_dict({**base, **values, "name": f"trial-{trial}"})
    except InvalidParameter as error:
        return {**row, "status": "invalid", "objective": None, "error": error.message("en")}

    sample_set = SampleSet.load(set_path)
    items = sample_set.items
    if item_ids is not None:
        wanted = set(item_ids)
        items = [item for item in items if item.id in wanted]
    run = evaluate_set(
        sample_set, MethodSpec("engine", params=params.to_dict(), backend=backend), items=items, progress=False
    )
    summary = run.summary()["overall"]
    function, sign = OBJECTIVES[objective]
    score = function(summary)
    errors = [record["error"] for record in run.records if "error" in record]
    row.update({key: summary.get(key) for key in SUMMARY_COLUMNS})
    row.update(
        status="ok" if not errors else "errors",
        objective=sign * score if score is not None and math.isfinite(score) else None,
        error=errors[0] if errors else "",
    )
    return row


def _base_params(name: str) -> Params:
    """Load the base profile; ``default`` means the built-in defaults when no such file exists."""
    if name == "default" and not (PROFILES_DIR / "default.toml").is_file():
        return Params()
    return resolve_params(name)


@dataclass
class SearchResult:
    """All trial rows, and the best valid one."""

    rows: list[dict[str, Any]]
    best: dict[str, Any] | None
    best_params: Params | None


def run_search(
    set_path: str | Path,
    space: SearchSpace,
    *,
    item_ids: list[str] | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    backend: str | None = None,
    progress: bool = True,
    profile_name: str = "tuned",
) -> SearchResult:
    """Run every trial of ``space`` on the set at ``set_path`` and pick the best.

    Parameters
    ----------
    set_path : str or Path
        The set's ``manifest.json`` (workers load it themselves).
    space : SearchSpace
    item_ids : list of str, optional
        Score only these items (for instance the ones whose files are present).
    jobs : int
        Local worker processes when no scheduler is given.
    scheduler : str, optional
        Address of a Dask distributed scheduler, such as ``tcp://127.0.0.1:8786``.
    backend : str, optional
        Engine backend for every trial.
    progress : bool
        Show a tqdm progress bar on stderr.
    profile_name : str
        ``name`` field of the best profile.
    """
    base = _base_params(space.base).to_dict()
    base.pop("name", None)
    # Trial 0 is the base profile, written with its own values for the searched fields.
    trials = [{dimension.name: base[dimension.name] for dimension in space.dimensions}]
    trials += list(space.candidates())
    arguments = [
        (str(set_path), item_ids, index, base, values, space.objective, backend)
        for index, values in enumerate(trials)
    ]
    bar = tqdm(total=len(arguments), desc="tune", unit="trial", file=sys.stderr, disable=not progress)
    rows: list[dict[str, Any]] = []

    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = [client.submit(run_trial, *args, pure=False) for args in arguments]
            for future in dask_completed(futures):
                rows.append(future.result())
                bar.update()
    elif jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_trial, *args) for args in arguments]
            for future in as_completed(futures):
                rows.append(future.result())
                bar.update()
    else:
        for args in arguments:
            rows.append(run_trial(*args))
            bar.update()
    bar.close()

    rows.sort(key=lambda row: row["trial"])
    scored = [row for row in rows if row.get("objective") is not None and row["status"] == "ok"]
    # Ties go to the earliest trial, so the base profile wins unless beaten.
    best = max(scored, key=lambda row: (row["objective"], -row["trial"]), default=None)
    best_params = None
    if best is not None:
        values = {dimension.name: best[dimension.name] for dimension in space.dimensions if dimension.name in best}
        best_params = Params.from_dict({**base, **values, "name": profile_name})
    return SearchResult(rows=rows, best=best, best_params=best_params)


def write_trials_csv(result: SearchResult, space: SearchSpace, path: str | Path) -> None:
    """Write one row per trial: its values, status, objective and summary scores."""
    names = [dimension.name for dimension in space.dimensions]
    fields = ["trial", "status", "objective", *names, *SUMMARY_COLUMNS, "error"]
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in result.rows:
            writer.writerow({key: row.get(key, "") for key in fields})
