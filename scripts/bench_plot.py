"""Latency distribution plot of a benchmark run (needs matplotlib: run it with .venv/rasa/bin/python).

    .venv/rasa/bin/python scripts/bench_plot.py results/bench/latency.json docs/img/bench-latency.png

One panel per concurrency level: the cumulative distribution of full-path latencies (signed
webhook POST → last Send API call) next to bare Rasa's REST channel, log-scaled time axis, with
box plots underneath. scripts/bench.py calls it after each run.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

MS = FuncFormatter(lambda value, _pos: f"{value:g}")

COLOURS = {"ours": "#c0392b", "bare": "#2c7fb8"}
LABELS = {"ours": "webhook → Send API (ours)", "bare": "Rasa REST channel (bare)"}


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as file:
        data = json.load(file)
    levels = data["results"]["levels"]
    fig, axes = plt.subplots(
        2, len(levels), figsize=(4.6 * len(levels), 7.2), squeeze=False, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    for col, (level, entry) in enumerate(levels.items()):
        cdf, box = axes[0][col], axes[1][col]
        series = []
        for path in ("ours", "bare"):
            samples = sorted(entry[path]["samples_ms"])
            if not samples:
                continue
            n = len(samples)
            cdf.step(
                samples,
                [(i + 1) / n for i in range(n)],
                where="post",
                color=COLOURS[path],
                label=f"{LABELS[path]} (n={n})",
            )
            p50 = entry[path]["latency_ms"]["p50"]
            cdf.axvline(p50, color=COLOURS[path], linestyle=":", linewidth=1)
            series.append((path, samples))
        title = f"{level} conversation{'s' if level != '1' else ''}"
        if entry.get("ratio_p50"):
            title += f" — ratio p50 {entry['ratio_p50']:.2f}"
        cdf.set_title(title, fontsize=10)
        cdf.set_xscale("log")
        cdf.xaxis.set_major_formatter(MS)
        cdf.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}" if str(int(v))[0] in "25" else ""))
        cdf.set_ylim(0, 1.0)
        cdf.grid(True, which="both", alpha=0.3)
        cdf.set_xlabel("latency (ms, log)")
        if col == 0:
            cdf.set_ylabel("share of turns ≤ x")
        cdf.legend(fontsize=7, loc="lower right")
        if series:
            parts = box.boxplot(
                [s for _, s in series],
                vert=False,
                whis=(1, 99),
                showfliers=False,
                labels=[p for p, _ in series],
                patch_artist=True,
            )
            for patch, (path, _) in zip(parts["boxes"], series):
                patch.set_facecolor(COLOURS[path])
                patch.set_alpha(0.45)
            box.set_xscale("log")
            box.xaxis.set_major_formatter(MS)
            box.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}" if str(int(v))[0] in "25" else ""))
            box.grid(True, which="both", alpha=0.3)
            box.set_xlabel("ms (whiskers p1–p99)")
            box.set_xlim(cdf.get_xlim())
    fig.suptitle(
        f"Mobilis Assistant — latency per turn, {data['generated_at']} "
        f"({data['machine']['nproc']} cores, commit {data['machine']['commit']})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bench_plot.py results/bench/latency.json docs/img/bench-latency.png")
    main(sys.argv[1], sys.argv[2])
