"""``signature-engine tune`` end to end: local processes and a local Dask cluster."""

from __future__ import annotations

import csv

import pytest

from engine.cli import main
from engine.evaluation.tune import InvalidSearchSpace, SearchSpace, run_search
from engine.params import Params

SPACE = """
[search]
method = "grid"
objective = "composite"

[params]
ink_threshold = [0.22, 0.4]
ink_threshold_low = [0.12, 0.3]
"""


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE, encoding="utf-8")
    return path


def test_tune_writes_profile_and_trials(smoke_path, space_file, tmp_path):
    best = tmp_path / "best.toml"
    code = main(["tune", str(smoke_path), "--space", str(space_file), "--best", str(best), "--jobs", "2",
                 "--no-progress"])
    assert code == 0
    profile = Params.load(best)
    assert profile.name == "best"
    with open(tmp_path / "best_trials.csv", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 5  # the base profile and the 2 x 2 grid
    # ink_threshold_low 0.3 above ink_threshold 0.22 breaks a parameter rule.
    assert [row["status"] for row in rows].count("invalid") == 1


def test_tune_best_is_top_objective(smoke_path, space_file):
    result = run_search(smoke_path / "manifest.json", SearchSpace.load(space_file), progress=False)
    scores = [row["objective"] for row in result.rows if row["status"] == "ok"]
    assert result.best["objective"] == max(scores)


def test_tune_on_local_dask_cluster(smoke_path, space_file):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1",
        protocol="tcp://", dashboard_address=None,
    ) as cluster:
        result = run_search(
            smoke_path / "manifest.json", SearchSpace.load(space_file),
            scheduler=cluster.scheduler_address, progress=False,
        )
    local = run_search(smoke_path / "manifest.json", SearchSpace.load(space_file), progress=False)
    assert [row["trial"] for row in result.rows] == [0, 1, 2, 3, 4]
    assert [row["objective"] for row in result.rows] == [row["objective"] for row in local.rows]


def test_search_space_random_draws_in_range():
    space = SearchSpace.from_dict(
        {"search": {"method": "random", "trials": 6, "seed": 2},
         "params": {"background_kernel": {"low": 15, "high": 61}, "noise_factor": [4.0, 8.0]}}
    )
    candidates = list(space.candidates())
    assert len(candidates) == 6
    assert all(15 <= c["background_kernel"] <= 61 and isinstance(c["background_kernel"], int) for c in candidates)
    assert {c["noise_factor"] for c in candidates} <= {4.0, 8.0}


def test_search_space_unknown_parameter():
    with pytest.raises(InvalidSearchSpace, match="unknown parameter 'ink_colour'"):
        SearchSpace.from_dict({"params": {"ink_colour": [1, 2]}})


def test_search_space_grid_needs_steps():
    space = SearchSpace.from_dict({"search": {"method": "grid"}, "params": {"noise_factor": {"low": 1, "high": 2}}})
    with pytest.raises(InvalidSearchSpace, match="needs `steps`"):
        list(space.candidates())
