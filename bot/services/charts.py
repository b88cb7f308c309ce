"""Progress charts as PNG bytes.

Drawn on matplotlib's Agg canvas through the object API (``Figure`` + ``FigureCanvasAgg``,
never pyplot), so rendering needs no display, touches no global figure state and is safe
in the worker threads commands run in. Korean text uses NanumGothic, shipped by the
``koreanize-matplotlib`` package: its font file is registered with matplotlib's font
manager (the package itself is never imported; importing it would change global rc
settings). Without it, a system font with Hangul is used when one is installed.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FONT_PACKAGE = "koreanize_matplotlib"
FONT_FILE = "NanumGothic.ttf"
HANGUL_FAMILIES = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "UnDotum", "Malgun Gothic")
DPI = 100
MAX_TASK_PANELS = 4
_lock = threading.Lock()
_family: str | None = None


def bundled_font() -> Path | None:
    """NanumGothic from koreanize-matplotlib, found without importing the package."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "fonts" / FONT_FILE
        if path.is_file():
            return path
    return None


def font_family() -> str:
    """The family name charts use, registering the bundled font on first use."""
    global _family
    with _lock:
        if _family is None:
            from matplotlib import font_manager

            path = bundled_font()
            if path is not None:
                font_manager.fontManager.addfont(str(path))
                _family = font_manager.FontProperties(fname=str(path)).get_name()
            else:
                installed = {font.name for font in font_manager.fontManager.ttflist}
                _family = next((f for f in HANGUL_FAMILIES if f in installed), "DejaVu Sans")
        return _family


@dataclass(frozen=True)
class EntriesChart:
    """Entries per member (rows) per day (columns)."""

    title: str
    day_labels: list[str]
    members: list[str]
    counts: list[list[int]]  # counts[member][day]
    empty_text: str


@dataclass(frozen=True)
class ScoreSeries:
    """One task: the group's best score so far each day, and the scores logged."""

    title: str
    best: list[float | None]  # per day of the period
    points: list[tuple[int, float]] = field(default_factory=list)  # (day index, score)


@dataclass(frozen=True)
class ScoresChart:
    title: str
    day_labels: list[str]
    series: list[ScoreSeries]
    best_label: str
    points_label: str
    empty_text: str


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _day_ticks(ax: Any, labels: list[str], family: str) -> None:
    step = max(1, len(labels) // 10)
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45, ha="right")
    ax.tick_params(labelfontfamily=family)


def _empty(ax: Any, text: str, family: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontfamily=family, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def entries_png(chart: EntriesChart) -> bytes:
    family = font_family()
    rows = max(1, len(chart.members))
    figure = _figure(max(6.0, 0.45 * len(chart.day_labels) + 2.5), max(3.0, 0.45 * rows + 2.0))
    ax = figure.add_subplot()
    ax.set_title(chart.title, fontfamily=family)
    if not chart.members or not chart.day_labels:
        _empty(ax, chart.empty_text, family)
    else:
        highest = max(max(row) for row in chart.counts) or 1
        ax.imshow(chart.counts, cmap="Greens", aspect="auto", vmin=0, vmax=highest)
        for y, row in enumerate(chart.counts):
            for x, value in enumerate(row):
                if value:
                    colour = "white" if value > highest / 2 else "black"
                    ax.text(x, y, str(value), ha="center", va="center", color=colour, fontsize=9)
        ax.set_yticks(range(len(chart.members)), chart.members)
        _day_ticks(ax, chart.day_labels, family)
    figure.tight_layout()
    return _png(figure)


def scores_png(chart: ScoresChart) -> bytes:
    from matplotlib.font_manager import FontProperties

    family = font_family()
    series = chart.series[:MAX_TASK_PANELS]
    panels = max(1, len(series))
    width = max(6.0, 0.45 * len(chart.day_labels) + 2.5)
    figure = _figure(width, 1.0 + 2.6 * panels)
    figure.suptitle(chart.title, fontfamily=family)
    axes = [figure.add_subplot(panels, 1, i + 1) for i in range(panels)]
    if not series:
        _empty(axes[0], chart.empty_text, family)
    for ax, one in zip(axes, series, strict=False):
        ax.set_title(one.title, fontfamily=family, fontsize=10)
        xs = [i for i, value in enumerate(one.best) if value is not None]
        ax.step(
            xs, [one.best[i] for i in xs], where="post", color="tab:blue", label=chart.best_label
        )
        if one.points:
            ax.scatter(
                [x for x, _ in one.points],
                [y for _, y in one.points],
                color="tab:orange",
                s=18,
                zorder=3,
                label=chart.points_label,
            )
        ax.set_xlim(-0.5, len(chart.day_labels) - 0.5)
        ax.grid(True, alpha=0.3)
        _day_ticks(ax, chart.day_labels, family)
        ax.legend(loc="best", prop=FontProperties(family=family, size=8))
    figure.tight_layout()
    return _png(figure)


__all__ = [
    "EntriesChart",
    "ScoreSeries",
    "ScoresChart",
    "bundled_font",
    "entries_png",
    "font_family",
    "scores_png",
]
