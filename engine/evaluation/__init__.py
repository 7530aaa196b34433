"""Scoring the engine on sample sets: metrics, runs, baselines, reports and parameter search.

The command line front ends are ``signature-engine evaluate`` and
``signature-engine tune``; see :mod:`engine.evaluation.runner` for what each
score means and :mod:`engine.evaluation.compare` for the regression thresholds.
"""
