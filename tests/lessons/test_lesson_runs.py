"""Every lesson runs as a plain script: exit 0, a device line, its images and nothing else.

The lessons run once per test session, two at a time (each imports torch, about a second),
and the tests below check the recorded runs.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from lessons.catalogue import LessonInfo, load_lessons
from tests.lessons.helpers import LESSONS_DIR, LessonRun, png_problems, png_size, run_lesson

LESSONS = load_lessons(LESSONS_DIR)
DEVICE_LINE = re.compile(r"^device: (cpu|cuda)$", re.MULTILINE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LessonRun]:
    root = tmp_path_factory.mktemp("lesson-runs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            # The output folder does not exist yet: a drawing lesson must create it.
            lesson.id: pool.submit(run_lesson, lesson.path, root / lesson.id, make_output_dir=False)
            for lesson in LESSONS
        }
        return {lesson_id: future.result() for lesson_id, future in futures.items()}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_runs_cleanly(runs: dict[str, LessonRun], lesson: LessonInfo) -> None:
    run = runs[lesson.id]
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    assert "Warning" not in run.stderr, run.describe()
    devices = DEVICE_LINE.findall(run.stdout)
    assert len(devices) == 1, run.describe()
    assert len(run.stdout.splitlines()) >= 4, "a lesson should show what it measured"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_writes_only_its_images(runs: dict[str, LessonRun], lesson: LessonInfo) -> None:
    run = runs[lesson.id]
    assert list(run.work_dir.iterdir()) == [], "nothing may be written to the working folder"
    written = sorted(run.output_dir.rglob("*")) if run.output_dir.exists() else []
    if not lesson.draws:
        assert written == [], f"{lesson.id} does not draw but wrote {written}"
        return
    assert written, f"{lesson.id} draws but saved no image"
    for path in written:
        assert path.suffix == ".png", f"unexpected file {path.name}"
        assert png_problems(path) == [], f"{path.name}: {png_problems(path)}"
        width, height = png_size(path)
        assert 300 <= width <= 1600 and 200 <= height <= 1200, f"{path.name}: {width}x{height}"
        assert path.name in run.stdout, "the lesson should say which image it saved"


def test_lessons_are_quick(runs: dict[str, LessonRun]) -> None:
    """A few seconds each on two cores, torch's import included; the bound leaves room for a
    busy CI host (two lessons run at once here)."""
    slow = {lesson_id: round(run.seconds, 1) for lesson_id, run in runs.items() if run.seconds > 60}
    assert not slow, f"lessons too slow: {slow}"
