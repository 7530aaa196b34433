"""Output of an evaluation: terminal table, JSON and CSV files, and the HTML report."""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.evaluation.runner import FALSE_INK_RGB, MISSED_INK_RGB, TRUE_INK_RGB, Run, _json_safe
from samples.manifest import SampleSet

__all__ = [
    "DOCUMENT_FORMAT",
    "build_document",
    "format_tables",
    "write_csv",
    "write_html_report",
    "write_json",
]

DOCUMENT_FORMAT = "signature-engine-evaluation"

# (summary key, column title, format) for each task.
_SIGNATURE_COLUMNS = [
    ("n", "n", "{:d}"),
    ("fm", "FM %", "{:.1f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("drd", "DRD", "{:.2f}"),
    ("skew_mean", "skew °", "{:.2f}"),
    ("skew_p95", "p95 °", "{:.2f}"),
    ("skew_max", "max °", "{:.2f}"),
    ("iou", "IoU", "{:.3f}"),
    ("kept_whole", "kept", "{:.0%}"),
    ("gate_accuracy", "gate", "{:.0%}"),
    ("time_ms", "ms/img", "{:.0f}"),
]
_BINARIZATION_COLUMNS = [
    ("n", "n", "{:d}"),
    ("fm", "FM %", "{:.2f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("drd", "DRD", "{:.2f}"),
    ("time_ms", "ms/img", "{:.0f}"),
]

_CSV_FIELDS = [
    "method", "id", "categories", "expected", "expected_code", "outcome", "code", "gate_correct",
    "code_match", "fm", "psnr", "drd", "skew_error", "angle_error", "angle_truth", "angle_estimated",
    "angle_applied", "iou", "kept_whole", "crop_box", "box_truth", "time_ms", "warnings", "error",
]


def _columns(task: str) -> list[tuple[str, str, str]]:
    return _BINARIZATION_COLUMNS if task == "binarization" else _SIGNATURE_COLUMNS


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _table(rows: list[tuple[str, dict[str, Any]]], columns: list[tuple[str, str, str]], first: str) -> str:
    header = [first] + [title for _, title, _ in columns]
    body = [[label] + [_cell(summary.get(key), fmt) for key, _, fmt in columns] for label, summary in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for line in body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    return "\n".join(lines)


def format_tables(runs: Sequence[Run]) -> str:
    """Return the terminal tables: one per run (overall, then each category), then a method comparison."""
    parts = []
    for run in runs:
        summary = run.summary()
        rows = [("overall", summary["overall"])] + list(summary["categories"].items())
        parts.append(f"{run.label} on {run.set_name} ({run.task})\n" + _table(rows, _columns(run.task), "category"))
    if len(runs) > 1:
        rows = [(run.label, run.summary()["overall"]) for run in runs]
        parts.append("methods compared\n" + _table(rows, _columns(runs[0].task), "method"))
    return "\n\n".join(parts)


def build_document(
    sample_set: SampleSet, runs: Sequence[Run], *, problems: Sequence[str] = ()
) -> dict[str, Any]:
    """Return the JSON document of an evaluation: set, runs with summaries and per-image records."""
    from engine import __version__

    return {
        "format": DOCUMENT_FORMAT,
        "format_version": 1,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "engine_version": __version__,
        "set": {
            "name": sample_set.name,
            "path": str(sample_set.path),
            "task": sample_set.task,
            "items": len(sample_set.items),
            "categories": sample_set.categories(),
        },
        "problems": list(problems),
        "runs": [run.to_dict() for run in runs],
    }


def write_json(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(_json_safe(document), indent=1) + "\n", encoding="utf-8")


def write_csv(runs: Sequence[Run], path: str | Path) -> None:
    """Write one row per image and method."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=_CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for run in runs:
            for record in run.records:
                row = dict(_json_safe(record))
                row["method"] = run.label
                for key in ("categories", "warnings"):
                    row[key] = ";".join(record.get(key) or [])
                for key in ("crop_box", "box_truth"):
                    row[key] = " ".join(str(v) for v in record[key]) if record.get(key) else ""
                writer.writerow(row)


# ---------------------------------------------------------------- HTML report


def _badness(record: dict[str, Any]) -> tuple:
    """Sort key: wrong gate decisions, failures and lost signatures first, then low F-measure."""
    fm = record.get("fm")
    return (
        record.get("gate_correct") is not False,
        "error" not in record,
        record.get("kept_whole") is not False,
        fm if fm is not None else 101.0,
        -(record.get("skew_error") or 0.0),
    )


def _plots(runs: Sequence[Run], folder: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("fm", "F-measure (%)"), ("psnr", "PSNR (dB)"), ("drd", "DRD")]
    if runs[0].task == "signature":
        metrics += [("skew_error", "Skew left in the output (degrees)"), ("iou", "Crop IoU")]
    metrics.append(("time_ms", "Time per image (ms)"))

    written = []
    for key, title in metrics:
        figure, axis = plt.subplots(figsize=(6.0, 3.2), dpi=100)
        series = [
            (run.label, [r[key] for r in run.records if r.get(key) is not None and math.isfinite(r[key])])
            for run in runs
        ]
        pooled = [value for _, values in series for value in values]
        if not pooled:
            plt.close(figure)
            continue
        # Shared bin edges, so the methods' bars line up.
        edges = np.linspace(0.0, 100.0, 21) if key == "fm" else np.histogram_bin_edges(pooled, bins=20)
        for label, values in series:
            if values:
                axis.hist(values, bins=edges, alpha=0.55, label=f"{label} (n={len(values)})")
        axis.set_title(title)
        axis.set_ylabel("images")
        axis.legend(fontsize=8)
        figure.tight_layout()
        name = f"plots/{key}.png"
        figure.savefig(folder / name)
        plt.close(figure)
        written.append((name, title))
    return written


def _summary_table_html(rows: list[tuple[str, dict[str, Any]]], task: str, first: str) -> str:
    columns = _columns(task)
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    body = []
    for label, summary in rows:
        cells = "".join(f"<td>{html.escape(_cell(summary.get(key), fmt))}</td>" for key, _, fmt in columns)
        body.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f"<table><tr><th>{first}</th>{head}</tr>{''.join(body)}</table>"


def _record_facts(record: dict[str, Any], task: str) -> str:
    facts = []
    if task == "signature":
        expected = record.get("expected", "accept")
        if record.get("expected_code"):
            expected += f" ({record['expected_code']})"
        outcome = record.get("outcome", "error")
        if record.get("code"):
            outcome += f" ({record['code']})"
        mark = "ok" if record.get("gate_correct") else "WRONG"
        facts.append(f"expected {expected}, got {outcome}: {mark}")
    for key, label, fmt in (
        ("fm", "FM", "{:.1f} %"), ("psnr", "PSNR", "{:.2f} dB"), ("drd", "DRD", "{:.2f}"),
        ("skew_error", "skew left", "{:.2f}°"), ("angle_truth", "truth angle", "{:.2f}°"),
        ("angle_estimated", "estimated", "{:.2f}°"), ("iou", "IoU", "{:.3f}"),
        ("kept_whole", "whole signature kept", "{}"), ("time_ms", "time", "{:.0f} ms"),
    ):
        if record.get(key) is not None:
            facts.append(f"{label} {_cell(record[key], fmt)}")
    if record.get("warnings"):
        facts.append("warnings: " + ", ".join(record["warnings"]))
    if record.get("error"):
        facts.append("error: " + record["error"])
    return " · ".join(html.escape(fact) for fact in facts)


def _swatch(rgb: tuple[int, int, int]) -> str:
    return f'<span class="swatch" style="background: rgb{rgb}"></span>'


def write_html_report(
    sample_set: SampleSet,
    runs: Sequence[Run],
    folder: str | Path,
    *,
    worst: int = 24,
    problems: Sequence[str] = (),
) -> Path:
    """Write ``index.html`` with its pictures and plots into ``folder``; return the page's path.

    The page lists the ``worst`` images of the first run first: wrong gate
    decisions, then lost signatures, then the lowest F-measure. Each has
    thumbnails of the input and of each method's output and ground-truth
    overlay. Plots of the metric distributions and per-category tables follow. Pictures are PNG files
    in ``img/`` and ``plots/`` beside the page, so the folder is self-contained.
    """
    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    primary = runs[0]
    task = primary.task

    def picture(run: Run, item_id: str, kind: str) -> str | None:
        data = run.artifacts.get(item_id, {}).get(kind)
        if data is None:
            return None
        safe_id = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in item_id)
        name = f"img/{safe_id}_{run.label}_{kind}.png"
        (folder / name).write_bytes(data)
        return name

    cards = []
    ordered = sorted(primary.records, key=_badness)[:worst]
    by_method = {run.label: {r["id"]: r for r in run.records} for run in runs}
    for record in ordered:
        item_id = record["id"]
        # One row per method: the input (first row only), the output, the overlay.
        figures = []
        source = picture(primary, item_id, "input")
        for index, run in enumerate(runs):
            cell = (
                f'<figure><img src="{source}" alt="input"><figcaption>input</figcaption></figure>'
                if index == 0 and source
                else "<div></div>"
            )
            figures.append(cell)
            for kind, caption in (("output", "output"), ("overlay", "truth overlay")):
                name = picture(run, item_id, kind)
                figures.append(
                    f'<figure><img src="{name}" alt="{run.label} {caption}">'
                    f"<figcaption>{html.escape(run.label)} {caption}</figcaption></figure>"
                    if name
                    else f"<figure><figcaption>{html.escape(run.label)}: no {caption}</figcaption></figure>"
                )
        others = "".join(
            f"<p class='other'><b>{html.escape(run.label)}</b>: "
            f"{_record_facts(by_method[run.label].get(item_id, {}), task)}</p>"
            for run in runs[1:]
        )
        cards.append(
            f"<section class='card'><h3>{html.escape(item_id)} "
            f"<small>{html.escape(', '.join(record.get('categories', [])))}</small></h3>"
            f"<p><b>{html.escape(primary.label)}</b>: {_record_facts(record, task)}</p>{others}"
            f"<div class='figures'>{''.join(figures)}</div></section>"
        )

    plots = _plots(runs, folder)
    plot_html = "".join(f'<img class="plot" src="{name}" alt="{html.escape(title)}">' for name, title in plots)
    overall = _summary_table_html([(run.label, run.summary()["overall"]) for run in runs], task, "method")
    categories = "".join(
        f"<h3>{html.escape(run.label)}</h3>"
        + _summary_table_html(list(run.summary()["categories"].items()), task, "category")
        for run in runs
    )
    problem_html = (
        "<section class='problems'><h2>Set problems</h2><ul>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in problems)
        + "</ul></section>"
        if problems
        else ""
    )
    legend = (
        f"<p class='legend'>Overlay: {_swatch(TRUE_INK_RGB)} ink found "
        f"{_swatch(MISSED_INK_RGB)} missed ink (in the truth, not in the output) "
        f"{_swatch(FALSE_INK_RGB)} false ink (in the output, not in the truth). "
        "Outputs are shown over a checkerboard where transparent.</p>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Evaluation of {html.escape(sample_set.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
tr th:first-child {{ text-align: left; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }}
.card h3 {{ margin: 4px 0; }} .card small {{ color: #666; font-weight: normal; }}
.card p {{ margin: 4px 0; font-size: 13px; }} .other {{ color: #555; }}
.figures {{ display: grid; grid-template-columns: repeat(3, max-content); gap: 8px 14px; align-items: start; }}
figure {{ margin: 0; }} figure img {{ max-height: 240px; border: 1px solid #bbb; background: #fff; }}
figcaption {{ font-size: 12px; color: #555; }}
.swatch {{ display: inline-block; width: 12px; height: 12px; border: 1px solid #888; vertical-align: middle; }}
.plot {{ margin: 4px; border: 1px solid #eee; }} .problems {{ color: #a00; }}
</style></head><body>
<h1>Evaluation of set “{html.escape(sample_set.name)}”</h1>
<p>{html.escape(sample_set.description)}</p>
<p>{len(primary.records)} images, task {html.escape(task)}, methods: {html.escape(', '.join(r.label for r in runs))}.
Generated {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.</p>
{problem_html}
<h2>Summary</h2>{overall}
<h2>Worst cases ({html.escape(primary.label)}), worst first</h2>{legend}
{''.join(cards)}
<h2>Distributions</h2>{plot_html}
<h2>Per category</h2>{categories}
</body></html>
"""
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
