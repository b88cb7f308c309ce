"""The catalogue sync against a real HTTP server on loopback serving the site's JSON shape."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from bot.app import build_core
from bot.cli.problems import sync_catalogue
from bot.clock import ManualClock
from bot.config import Settings
from bot.programmers import FetchOptions
from bot.services import catalogue
from db.models import Problem

Responder = Callable[[int, dict[str, list[str]]], tuple[int, str, str] | None]


class FakeSite:
    """A loopback HTTP server; ``responder(page, query)`` decides each answer."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, list[str]]] = []
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = parse_qs(parsed.query)
                site.requests.append(query)
                if parsed.path != "/api/v2/school/challenges/":
                    self.send_error(404)
                    return
                answer = site.responder(int(query.get("page", ["1"])[0]), query)
                if answer is None:  # hang until the client gives up
                    site.release.wait(5)
                    return
                status, content_type, body = answer
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def page_json(page: int, total: int, items: list[dict[str, object]]) -> tuple[int, str, str]:
    body = {
        "page": page,
        "perPage": 100,
        "totalPages": total,
        "totalEntries": 999,
        "languages": ["python3"],
        "result": items,
    }
    return 200, "application/json", json.dumps(body, ensure_ascii=False)


def item(pid: int, title: str, level: int = 2, part: str = "연습문제") -> dict[str, object]:
    return {"id": pid, "title": title, "partTitle": part, "level": level, "finishedCount": 1}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/sync.db", _env_file=None)


def snapshot(settings: Settings) -> list[tuple[int, str, str]]:
    core = build_core(settings, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    with core.services.transaction() as session:
        return [
            (p.id, p.title, p.kind) for p in session.scalars(select(Problem).order_by(Problem.id))
        ]


def run_sync(
    settings: Settings, site: FakeSite, dry_run: bool = False, **kw: object
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    values: dict[str, object] = {"page_delay": 0, "timeout": 1.0, "retries": 1, "backoff": 0}
    values.update(kw)
    options = FetchOptions(base_url=site.url, **values)  # type: ignore[arg-type]
    sleeps: list[float] = []
    code = sync_catalogue(settings, options, dry_run, out, err, sleep=sleeps.append)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def good_pages() -> Iterator[Responder]:
    pages = {
        1: [item(12899, "124 나라의 숫자"), item(42578, "의상 ")],  # existing, trailing space
        2: [
            item(42587, "프로세스"),
            item(999001, "새 문제\u00a0"),
            item(999002, "새 SQL", part="JOIN"),
        ],
        3: [item(1, "레벨 3 문제", level=3)],
    }
    yield lambda page, query: page_json(page, 3, pages.get(page, []))


def test_seed_has_the_shipped_catalogue(settings: Settings) -> None:
    rows = snapshot(settings)
    assert len(rows) == 155
    assert sum(1 for r in rows if r[2] == "sql") == 36
    assert (12899, "124 나라의 숫자", "algorithm") in rows


def test_sync_adds_new_and_renames_and_never_removes(
    settings: Settings, good_pages: Responder
) -> None:
    before = dict((r[0], r[1]) for r in snapshot(settings))
    with FakeSite(good_pages) as site:
        code, out, err = run_sync(settings, site)
    assert code == 0, err
    after = {r[0]: (r[1], r[2]) for r in snapshot(settings)}
    assert after[999001] == ("새 문제", "algorithm")  # nbsp trimmed
    assert after[999002] == ("새 SQL", "sql")
    assert 1 not in after  # other levels ignored
    assert len(after) == len(before) + 2  # nothing removed
    assert "+ 999001 새 문제" in out and "Added 2" in out
    assert [q["page"] for q in site.requests] == [["1"], ["2"], ["3"]]
    assert site.requests[0]["levels[]"] == ["2"]


def test_dry_run_changes_nothing(settings: Settings, good_pages: Responder) -> None:
    before = snapshot(settings)
    with FakeSite(good_pages) as site:
        code, out, _ = run_sync(settings, site, dry_run=True)
    assert code == 0
    assert "Would add 2" in out
    assert snapshot(settings) == before


def test_rename_is_applied(settings: Settings) -> None:
    pages = lambda page, q: page_json(1, 1, [item(42578, "의상 바뀐 제목")])  # noqa: E731
    with FakeSite(pages) as site:
        code, out, _ = run_sync(settings, site)
    assert code == 0
    assert "~ 42578 의상 -> 의상 바뀐 제목" in out
    assert dict((r[0], r[1]) for r in snapshot(settings))[42578] == "의상 바뀐 제목"


HTML_THROTTLE = (200, "text/html", "<!DOCTYPE html><html><body>서비스 접속 오류</body></html>")


@pytest.mark.parametrize(
    ("name", "bad_answer", "message"),
    [
        ("html-200", HTML_THROTTLE, "HTML page"),
        ("http-500", (500, "text/plain", "oops"), "HTTP 500"),
        (
            "truncated",
            (200, "application/json", '{"page": 2, "totalPages": 3, "result": [{"id"'),
            "broken JSON",
        ),
        (
            "wrong-shape",
            (200, "application/json", '{"page": 2, "totalPages": 3, "result": {"id": 1}}'),
            "wrong shape",
        ),
        (
            "bad-item",
            (
                200,
                "application/json",
                '{"page": 2, "totalPages": 3, "result": [{"id": -5, "title": "", "level": 2}]}',
            ),
            "wrong shape",
        ),
        ("timeout", None, "no answer"),
    ],
)
def test_a_bad_page_leaves_the_catalogue_unchanged(
    settings: Settings, name: str, bad_answer: tuple[int, str, str] | None, message: str
) -> None:
    before = snapshot(settings)

    def responder(page: int, query: dict[str, list[str]]) -> tuple[int, str, str] | None:
        if page == 2:
            return bad_answer
        return page_json(page, 3, [item(990000 + page, f"문제 {page}")])

    with FakeSite(responder) as site:
        code, _out, err = run_sync(settings, site, timeout=0.3)
    assert code == 1
    assert "the catalogue is unchanged" in err
    assert message in err
    assert snapshot(settings) == before  # page 1's new problem was not stored


def test_a_throttled_page_is_retried(settings: Settings) -> None:
    calls = {"n": 0}

    def responder(page: int, query: dict[str, list[str]]) -> tuple[int, str, str]:
        calls["n"] += 1
        if calls["n"] == 1:
            return HTML_THROTTLE
        return page_json(1, 1, [item(990001, "재시도 문제")])

    with FakeSite(responder) as site:
        code, _, err = run_sync(settings, site)
    assert code == 0, err
    assert calls["n"] == 2
    assert 990001 in {r[0] for r in snapshot(settings)}


def test_resolve_by_id_url_and_title(settings: Settings) -> None:
    core = build_core(settings, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    with core.services.transaction() as session:
        assert catalogue.resolve(session, "12899").id == 12899
        url = "https://school.programmers.co.kr/learn/courses/30/lessons/42578?language=python3"
        assert catalogue.resolve(session, url).id == 42578
        assert catalogue.resolve(session, "124 나라").id == 12899
        assert catalogue.resolve(session, "124나라의숫자").id == 12899
        assert [p.id for p in catalogue.search(session, "카카오프렌즈")] == [1829]
        with pytest.raises(Exception) as missing:
            catalogue.resolve(session, "존재하지 않는 문제 제목")
        assert missing.value.key == "error.problem_no_match"  # type: ignore[attr-defined]
