"""Benchmark tooling shared by ``signature-engine bench`` and the pytest-benchmark suites in ``benchmarks/``.

- :mod:`engine.bench.inputs` builds the benchmark inputs (synthetic phone
  photos as JPEG, HEIC and PNG with their ground truth, plus a few real photos)
  and caches them on disk.
- :mod:`engine.bench.baselines` holds what the engine is compared with: the
  fastest grey-only decode of the same file (the decode floor) and a plain
  OpenCV recipe of the kind found in small signature-extraction scripts.
- :mod:`engine.bench.steps` replays each pipeline step on its own, with the
  arguments recorded from a real run.
- :mod:`engine.bench.runner` times calls, measures peak memory in a fresh
  process, and renders the result table.

Nothing here is imported by the engine itself.
"""
