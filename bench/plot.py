#!/usr/bin/python3
"""Draws pvbench's results.json as a PNG: % of native per metric per path.

usage: plot.py results.json results.png

Needs matplotlib (Debian: python3-matplotlib); exits 2 without it so
pvbench can report the PNG as skipped.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot.py: matplotlib not available: {e}", file=sys.stderr)
        return 2

    with open(sys.argv[1]) as f:
        res = json.load(f)
    paths = [p["name"] for p in res["paths"] if p["name"] != "native"]
    metrics = res["metrics"]
    if not paths or not metrics:
        print("plot.py: nothing to compare with native", file=sys.stderr)
        return 1

    labels = [m["name"] for m in metrics]
    n = len(labels)
    height = 0.8 / len(paths)
    colours = {"pearvisor": "#2a7ab0", "virgl": "#d98a1c"}
    top = 110.0
    fig, ax = plt.subplots(figsize=(16, 0.45 * n * max(1, len(paths)) + 2))
    for pi, path in enumerate(paths):
        ys, vals, notes, serial = [], [], [], []
        for mi, m in enumerate(metrics):
            r = m["results"].get(path, {})
            y = mi + (pi - (len(paths) - 1) / 2) * height
            pct = r.get("pct_of_native")
            if r.get("status") == "ok" and pct is not None:
                ys.append(y)
                vals.append(pct)
                # recording-bound rows: % of the serial limit beside the bar
                serial.append(r.get("pct_of_serial_limit"))
            else:
                notes.append((y, r.get("status", "not run")))
        top = max([top] + [v * 1.15 for v in vals])
        colour = colours.get(path, "#777777")
        bars = ax.barh(ys, vals, height=height, label=path, color=colour)
        for b, v, sl in zip(bars, vals, serial):
            label = f"{v:.0f}%" + (f" ({sl:.0f}% of serial limit)" if sl is not None else "")
            ax.text(b.get_width() + 1, b.get_y() + b.get_height() / 2,
                    label, va="center", fontsize=7)
        for y, status in notes:
            ax.text(1, y, f"{path}: {status[:110]}", va="center", fontsize=6,
                    color="#b00020")
    ax.set_xlim(0, top)
    ax.axvline(100, color="#444", linestyle="--", linewidth=1)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)  # first metric on top
    ax.set_xlabel("% of native (median; higher is better, 100% = host driver)")
    dev = next((p["device"] for p in res["paths"] if p["name"] == "native"), "")
    ax.set_title(f"pvbench: % of native per workload ({dev})"
                 + (" [quick]" if res.get("quick") else ""))
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=colours.get(p, "#777777"), label=p) for p in paths],
              loc="lower right")
    # Long metric names: a fixed left margin instead of tight_layout.
    fig.subplots_adjust(left=0.42, right=0.97, top=1 - 0.6 / fig.get_figheight(),
                        bottom=0.6 / fig.get_figheight())
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
