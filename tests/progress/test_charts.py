"""``/progress group``: the text, and two PNG charts drawn with matplotlib's Agg canvas
(no pyplot) in which Korean text renders with a Hangul font, not as empty boxes."""

from __future__ import annotations

import logging
import sqlite3
import struct
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from bot.replies import Reply
from bot.services import charts
from tests.conftest import Harness
from tests.progress.helpers import log_on

pytestmark = pytest.mark.sqlite_only  # drawing does not depend on the database

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def group_report(harness: Harness, who: str = "민수", **options: object) -> Reply:
    """``/progress group``, failing on any font warning matplotlib gives while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reply = harness.invoke(who, "progress group", **options)
    glyphs = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert glyphs == [], glyphs
    return reply


@pytest.fixture
def korean(harness: Harness) -> Harness:
    """Members with Korean names, a task and a week of entries."""
    harness.join("민수", "지영", "bob")
    harness.grant_admin("admin")
    harness.invoke("admin", "competition task", name="감성분석", metric="micro_f1")
    for day, who, score in (
        ("2026-12-07", "민수", 49.85),
        ("2026-12-08", "민수", 52.1),
        ("2026-12-08", "지영", 55.3),
        ("2026-12-09", "bob", None),
        ("2026-12-10", "지영", 58.02),
    ):
        options = {} if score is None else {"score": score}
        log_on(harness, who, day, "토크나이저 실험", **options)
    harness.at("2026-12-11 09:00")
    return harness


def test_the_group_report_has_text_and_two_korean_charts(
    korean: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        reply = group_report(korean)
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    assert (reply.key, reply.params) == (
        "progress.group",
        {"start": date(2026, 12, 5), "end": date(2026, 12, 11), "count": 5, "members": 3},
    )
    members = [t.params for t in reply.lines if t.key == "progress.group_member"]
    assert members == [  # Thursday and Friday: today counts only once logged
        {"name": "민수", "count": 2, "logged": 2, "study_days": 4},
        {"name": "지영", "count": 2, "logged": 2, "study_days": 4},
        {"name": "bob", "count": 1, "logged": 1, "study_days": 4},
    ]
    assert [a.filename for a in reply.attachments] == [
        "progress-entries-2026-12-11.png",
        "progress-scores-2026-12-11.png",
    ]
    for attachment in reply.attachments:
        width, height = png_size(attachment.data)
        assert width >= 600 and height >= 300, (attachment.filename, width, height)
        assert len(attachment.data) > 10_000  # drawn, not an empty canvas


def test_the_bundled_hangul_font_is_used() -> None:
    path = charts.bundled_font()
    assert path is not None and path.name == "NanumGothic.ttf"
    assert charts.font_family() == "NanumGothic"
    from matplotlib import font_manager

    found = font_manager.findfont(font_manager.FontProperties(family="NanumGothic"))
    assert found == str(path)


def test_a_month_and_an_empty_group_still_draw(harness: Harness) -> None:
    reply = group_report(harness, "alice", period="month")
    assert reply.params["count"] == 0 and reply.params["start"] == date(2026, 11, 8)
    assert [t.key for t in reply.lines] == ["progress.group_none"]
    for attachment in reply.attachments:
        png_size(attachment.data)
    refused = harness.invoke("alice", "progress group", period="year")
    assert (refused.key, refused.params) == ("error.progress_bad_period", {"value": "year"})


def test_drawing_is_safe_in_worker_threads() -> None:
    chart = charts.EntriesChart(
        title="하루 기록 수",
        day_labels=[f"12/{d}(월)" for d in range(1, 8)],
        members=["민수", "지영"],
        counts=[[1, 0, 2, 0, 1, 0, 0], [0, 1, 1, 1, 0, 0, 3]],
        empty_text="멤버가 없습니다",
    )
    alone = charts.entries_png(chart)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: charts.entries_png(chart), range(4)))
    assert together == [alone] * 4


def test_the_bot_never_imports_pyplot() -> None:
    code = (
        "import sys\n"
        "from bot.services import charts\n"
        "chart = charts.ScoresChart('점수', ['월', '화'], "
        "[charts.ScoreSeries('감성분석', [1.0, 2.0], [(0, 1.0), (1, 2.0)])], "
        "'최고', '점수', '없음')\n"
        "assert charts.scores_png(chart).startswith(b'\\x89PNG')\n"
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib.pyplot')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_charts_are_drawn_after_the_unit_of_work(
    korean: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a chart is drawn, another writer gets the SQLite database at once: the
    command's transaction (and its write lock) is over before drawing starts."""
    url = korean.core.services.settings.database_url
    path = url.removeprefix("sqlite:///")
    real = charts.entries_png
    writes: list[str] = []

    def draw_while_writing(chart: charts.EntriesChart) -> bytes:
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the lock is still held
            other.execute("UPDATE groups SET locale = locale")
            other.execute("COMMIT")
            writes.append("done")
        finally:
            other.close()
        return real(chart)

    monkeypatch.setattr(charts, "entries_png", draw_while_writing)
    reply = group_report(korean)
    assert writes == ["done"]
    assert reply.attachments[0].filename.startswith("progress-entries-")
