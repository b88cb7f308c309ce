"""The lessons prove their claims: they assert them, and a broken claim makes them fail.

Static checks read each file with ``ast``; the mutation checks run deliberately broken
copies of a few lessons and expect a loud failure (AssertionError, non-zero exit).
"""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lessons.catalogue import LessonInfo, load_lessons
from tests.lessons.helpers import LESSONS_DIR, run_lesson

LESSONS = load_lessons(LESSONS_DIR)
MIN_ASSERTS = 5


def parsed(lesson: LessonInfo) -> ast.Module:
    return ast.parse(lesson.source(), filename=lesson.path.name)


def calls_named(tree: ast.AST, name: str) -> int:
    """How many calls end in ``.name(...)`` or are ``name(...)``."""
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            count += called == name
    return count


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_asserts_its_claims(lesson: LessonInfo) -> None:
    asserts = [node for node in ast.walk(parsed(lesson)) if isinstance(node, ast.Assert)]
    assert len(asserts) >= MIN_ASSERTS, f"{lesson.id}: only {len(asserts)} assert statements"
    unexplained = [node.lineno for node in asserts if node.msg is None]
    assert not unexplained, f"{lesson.id}: asserts without a message on lines {unexplained}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_follows_the_conventions(lesson: LessonInfo) -> None:
    tree = parsed(lesson)
    code = lesson.source()
    assert calls_named(tree, "manual_seed") >= 1, f"{lesson.id}: seed torch's randomness"
    assert 'torch.cuda.is_available() else "cpu"' in code, f"{lesson.id}: pick cuda or cpu"
    assert 'print(f"device: {device.type}")' in code, f"{lesson.id}: print the device"
    guards = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and getattr(node.test.left, "id", "") == "__name__"
    ]
    assert len(guards) == 1, f"{lesson.id}: run the code under if __name__ == '__main__'"
    # Only definitions, imports and constants at module level: importing runs nothing.
    for node in tree.body:
        allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign)
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_backend = isinstance(node, ast.Expr) and calls_named(node, "use") == 1
        assert isinstance(node, allowed) or is_docstring or is_backend or node in guards, (
            f"{lesson.id}: line {node.lineno} runs code at import time"
        )
    assert "time.sleep" not in code
    if lesson.draws:
        assert 'matplotlib.use("Agg")' in code, f"{lesson.id}: draw with the Agg backend"
        assert "STUDYBOT_OUTPUT_DIR" in code, f"{lesson.id}: save images to the output folder"
        assert "dpi=80" in code, f"{lesson.id}: keep images small"
    else:
        assert "STUDYBOT_OUTPUT_DIR" not in code


def test_the_metadata_comes_first() -> None:
    for lesson in LESSONS:
        body = parsed(lesson).body
        first_code = next(
            node
            for node in body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        )
        assert isinstance(first_code, ast.Assign), f"{lesson.id}: LESSON should come first"
        assert getattr(first_code.targets[0], "id", "") == "LESSON", lesson.id


# --- mutations: break one claim in a copy, expect the copy to fail loudly ----------------

MUTATIONS = {
    "notes-xavier-formula": (
        "init-formulas",
        "return gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "return gain * 2.0 / math.sqrt(fan_in + fan_out)",
    ),
    "wrong-hand-jacobian": ("backward-gradient", "[2 * a * b, a**2, 0.0]", "[2 * a, a**2, 0.0]"),
    "he-with-xavier-gain": (
        "he-vs-xavier-relu",
        'nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")',
        'nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="linear")',
    ),
}


@pytest.fixture(scope="module")
def mutated_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("mutants")
    by_id = {lesson.id: lesson for lesson in LESSONS}
    jobs = {}
    for name, (lesson_id, original, replacement) in MUTATIONS.items():
        source = by_id[lesson_id].source()
        assert source.count(original) == 1, f"{name}: {original!r} should occur once"
        copy = root / name / by_id[lesson_id].path.name
        copy.parent.mkdir(parents=True)
        copy.write_text(source.replace(original, replacement), encoding="utf-8")
        jobs[name] = (copy, root / name / "scratch")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_lesson, *job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_broken_claim_fails_loudly(mutated_runs: dict, mutation: str) -> None:
    run = mutated_runs[mutation]
    assert run.returncode != 0, f"the mutant {mutation} passed:\n{run.describe()}"
    assert "AssertionError" in run.stderr, run.describe()


def test_mutants_differ_from_the_originals(tmp_path: Path) -> None:
    """Guard against a mutation that silently stopped matching after an edit."""
    by_id = {lesson.id: lesson for lesson in LESSONS}
    for lesson_id, original, replacement in MUTATIONS.values():
        source = by_id[lesson_id].source()
        assert original in source and replacement not in source
