"""The lesson catalogue: complete, bilingual, covering the notes, and torch-free."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lessons.catalogue import (
    REQUIRED_FIELDS,
    TEXT_FIELDS,
    LessonError,
    LessonInfo,
    find_lesson,
    load_lessons,
    read_lesson,
)
from tests.lessons.helpers import LESSONS_DIR, REPO, lesson_files

# Every PyTorch question in seed/peer-session-notes-2022-09-29.txt, with the lesson that
# answers it and the notes' day. (DAY05 holds only the group's working agreements.)
NOTES_TOPICS = {
    "DAY01 what the gradient argument of backward() does": ("backward-gradient", 1),
    "DAY02 torch.tensor vs torch.Tensor": ("tensor-vs-tensor-class", 2),
    "DAY02 why a model subclasses nn.Module": ("why-nn-module", 2),
    "DAY02 why super().__init__() is called": ("why-nn-module", 2),
    "DAY02 calling the object runs forward()": ("call-vs-forward", 2),
    "DAY03 why no backward() is defined": ("no-backward-needed", 3),
    "DAY03 why .pt / .pth (and .h5) extensions": ("save-and-load", 3),
    "DAY04 why initialise weights (reproducibility)": ("seeded-init", 4),
    "DAY04 why weights are not initialised to zero": ("zero-init-symmetry", 4),
    "DAY04 why Xavier: N(0,1) init saturates sigmoid": ("xavier-vs-normal-saturation", 4),
    "DAY04 He init for ReLU": ("he-vs-xavier-relu", 4),
    "DAY04 the Xavier / He formulas": ("init-formulas", 4),
}

# Words each answer must contain, in both languages, so that the catalogue says the
# essential thing (and the notes' Xavier-normal mistake is corrected in writing).
KEY_TERMS = {
    "backward-gradient": ["v^T J"],
    "tensor-vs-tensor-class": ["int64", "float32", "from_numpy"],
    "why-nn-module": ["super().__init__()", "Module.__init__() call", "state_dict"],
    "call-vs-forward": ["__call__", "hook"],
    "no-backward-needed": ["autograd", "gradcheck"],
    "save-and-load": ["state_dict", "weights_only", "pickle.UnpicklingError"],
    "zero-init-symmetry": ["tanh"],
    "xavier-vs-normal-saturation": ["2 / (fan_in + fan_out)", "sigmoid"],
    "he-vs-xavier-relu": ["2 / fan_in", "ReLU"],
    "init-formulas": ["sqrt(2 / (n + m))", "2 / sqrt(n + m)", "sqrt(6 / (n + m))", "sqrt(6 / n)"],
    "seeded-init": ["manual_seed", "Generator"],
}


@pytest.fixture(scope="module")
def lessons() -> list[LessonInfo]:
    return load_lessons(LESSONS_DIR)


def test_every_lesson_file_is_in_the_catalogue(lessons: list[LessonInfo]) -> None:
    assert len(lessons) >= 10
    assert sorted(lesson.path.name for lesson in lessons) == [p.name for p in lesson_files()]


def test_ids_are_unique_and_the_order_is_day_then_id(lessons: list[LessonInfo]) -> None:
    ids = [lesson.id for lesson in lessons]
    assert len(set(ids)) == len(ids)
    assert [(x.day, x.id) for x in lessons] == sorted((x.day, x.id) for x in lessons)


def test_every_field_is_filled_in_both_languages(lessons: list[LessonInfo]) -> None:
    hangul = range(0xAC00, 0xD7A4)
    for lesson in lessons:
        for field in TEXT_FIELDS:
            value = getattr(lesson, field)
            assert value.strip(), f"{lesson.id}: {field} is empty"
            has_korean = any(ord(ch) in hangul for ch in value)
            assert has_korean == field.endswith("_ko"), f"{lesson.id}: {field} language"
        assert lesson.tags, f"{lesson.id}: no tags"
        assert 1 <= lesson.day <= 5
        for field in ("explanation_ko", "explanation_en"):
            sentences = getattr(lesson, field).count(". ") + 1
            assert sentences >= 3, f"{lesson.id}: {field} should be a few sentences"


def test_every_topic_of_the_notes_has_a_lesson(lessons: list[LessonInfo]) -> None:
    by_id = {lesson.id: lesson for lesson in lessons}
    for topic, (lesson_id, day) in NOTES_TOPICS.items():
        assert lesson_id in by_id, f"no lesson for {topic!r}"
        assert by_id[lesson_id].day == day, f"{lesson_id} should be on day {day} ({topic})"


@pytest.mark.parametrize("lesson_id", sorted(KEY_TERMS))
def test_explanations_say_the_essential_thing(lessons: list[LessonInfo], lesson_id: str) -> None:
    lesson = find_lesson(lessons, lesson_id)
    assert lesson is not None
    for term in KEY_TERMS[lesson_id]:
        assert term in lesson.explanation_en, f"{lesson_id}: English lacks {term!r}"
        assert term in lesson.explanation_ko, f"{lesson_id}: Korean lacks {term!r}"


def test_drawing_flag_matches_the_code(lessons: list[LessonInfo]) -> None:
    for lesson in lessons:
        code = lesson.source()
        assert ("savefig" in code) == lesson.draws, f"{lesson.id}: draws={lesson.draws}"


def test_localised_text_and_lookup(lessons: list[LessonInfo]) -> None:
    lesson = find_lesson(lessons, "init-formulas")
    assert lesson is not None
    assert lesson.text("title", "ko") == lesson.title_ko
    assert lesson.text("question", "en-US") == lesson.question_en
    assert find_lesson(lessons, "no-such-lesson") is None
    assert lesson.source().startswith('"""')


def test_loading_the_catalogue_imports_no_torch() -> None:
    code = textwrap.dedent(
        """
        import sys
        from lessons.catalogue import load_lessons
        lessons = load_lessons()
        heavy = sorted(
            name for name in sys.modules
            if name.split(".")[0] in {"torch", "numpy", "matplotlib"}
        )
        print(len(lessons), heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    count, heavy = done.stdout.strip().split(" ", 1)
    assert int(count) >= 10
    assert heavy == "[]", f"the catalogue imported {heavy}"


# --- validation ----------------------------------------------------------------------

GOOD = {
    "id": "demo-lesson",
    "day": 2,
    "title_ko": "제목",
    "title_en": "Title",
    "question_ko": "질문",
    "question_en": "Question",
    "explanation_ko": "설명",
    "explanation_en": "Explanation",
    "tags": ["demo"],
    "draws": False,
}


def write_lesson(folder: Path, name: str, meta: dict | str, body: str = "") -> Path:
    text = meta if isinstance(meta, str) else f"LESSON = {meta!r}\n"
    path = folder / name
    path.write_text(f'"""A lesson."""\n\n{text}\nimport torch\n{body}', encoding="utf-8")
    return path


def test_a_good_file_loads_and_other_python_files_are_skipped(tmp_path: Path) -> None:
    write_lesson(tmp_path, "l01_demo.py", GOOD)
    write_lesson(tmp_path, "l02_other.py", {**GOOD, "id": "other", "day": 1})
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    (tmp_path / "sub").mkdir()
    write_lesson(tmp_path / "sub", "l03_nested.py", {**GOOD, "id": "nested"})
    loaded = load_lessons(tmp_path)
    assert [lesson.id for lesson in loaded] == ["other", "demo-lesson"]
    assert loaded[1].tags == ("demo",)
    assert loaded[1].path == tmp_path / "l01_demo.py"


def test_an_annotated_assignment_is_read(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "l01_demo.py", f"LESSON: dict = {GOOD!r}")
    lesson = read_lesson(path)
    assert lesson is not None and lesson.id == "demo-lesson"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({k: v for k, v in GOOD.items() if k != "question_en"}, "lacks question_en"),
        ({**GOOD, "colour": "red"}, "unknown keys colour"),
        ({**GOOD, "id": "Demo Lesson"}, "id must be"),
        ({**GOOD, "day": 6}, "day must be"),
        ({**GOOD, "day": True}, "day must be"),
        ({**GOOD, "day": "2"}, "day must be"),
        ({**GOOD, "title_ko": "   "}, "title_ko must be a non-empty string"),
        ({**GOOD, "explanation_en": None}, "explanation_en must be"),
        ({**GOOD, "tags": "demo"}, "tags must be"),
        ({**GOOD, "tags": ["ok", ""]}, "tags must be"),
        ({**GOOD, "draws": "no"}, "draws must be"),
        ("LESSON = ['not', 'a', 'dict']", "must be a dict"),
        ('LESSON = {"id": str(1)}', "literals only"),
        ("LESSON = dict(id='x')", "literals only"),
        ("LESSON = {", "not valid Python"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path: Path, meta: dict | str, message: str) -> None:
    write_lesson(tmp_path, "l01_bad.py", meta)
    with pytest.raises(LessonError, match=re.escape("l01_bad.py")) as caught:
        load_lessons(tmp_path)
    assert message in str(caught.value)


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    write_lesson(tmp_path, "l01_demo.py", GOOD)
    write_lesson(tmp_path, "l02_copy.py", GOOD)
    with pytest.raises(LessonError, match=re.escape("used by both l01_demo.py and l02_copy.py")):
        load_lessons(tmp_path)


def test_metadata_is_read_without_running_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    body = f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n"
    write_lesson(tmp_path, "l01_demo.py", GOOD, body=body)
    assert [lesson.id for lesson in load_lessons(tmp_path)] == ["demo-lesson"]
    assert not marker.exists()


def test_required_fields_are_the_documented_ones() -> None:
    assert set(REQUIRED_FIELDS) == set(GOOD)
