"""Client for the Programmers challenge list API (undocumented; see bot/data/PROVENANCE.md).

Every answer is treated as hostile: the site answers throttling with HTTP 200 and an HTML
page, so a body is used only after it parsed as JSON of the expected shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LIST_PATH = "/api/v2/school/challenges/"
SQL_PARTS = {"SELECT", "SUM, MAX, MIN", "GROUP BY", "IS NULL", "JOIN", "String, Date"}
MAX_PAGES = 500


class FetchError(Exception):
    """The catalogue could not be fetched; ``str()`` says why, for people."""


class ApiProblem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int = Field(gt=0, lt=10**9)
    title: str = Field(min_length=1, max_length=200)
    level: int = Field(ge=0, le=5)
    partTitle: str | None = Field(default=None, max_length=200)

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str) -> str:
        cleaned = " ".join(value.replace("\u00a0", " ").split())
        if not cleaned:
            raise ValueError("empty title")
        return cleaned

    @property
    def kind(self) -> str:
        return "sql" if (self.partTitle or "").strip() in SQL_PARTS else "algorithm"


class ApiPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(ge=1)
    totalPages: int = Field(ge=0, le=MAX_PAGES)
    result: list[ApiProblem]


@dataclass(frozen=True)
class FetchOptions:
    base_url: str
    page_delay: float = 5.0
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 2.0
    per_page: int = 100
    level: int = 2


Sleep = Callable[[float], None]
Progress = Callable[[int, int], None]


class _Retryable(Exception):
    pass


def _parse_page(response: requests.Response, expected_page: int) -> ApiPage:
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retryable(f"HTTP {response.status_code}")
    if response.status_code != 200:
        raise FetchError(f"the site answered HTTP {response.status_code}")
    body = response.text
    if body.lstrip()[:1] == "<":
        raise _Retryable("an HTML page instead of JSON (the site is throttling)")
    try:
        data = json.loads(body)
    except ValueError:
        raise _Retryable("a broken JSON answer") from None
    try:
        page = ApiPage.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FetchError(f"an answer of the wrong shape ({where}: {first['msg']})") from None
    if page.page != expected_page:
        raise FetchError(f"asked for page {expected_page}, got page {page.page}")
    return page


def fetch_catalogue(
    http: requests.Session,
    options: FetchOptions,
    sleep: Sleep,
    progress: Progress | None = None,
) -> list[ApiProblem]:
    """Every problem of the level, all pages. Raises FetchError; never returns partial data."""
    url = options.base_url.rstrip("/") + LIST_PATH
    problems: dict[int, ApiProblem] = {}
    page_no, total = 1, None
    while True:
        page = _fetch_page(http, url, page_no, options, sleep)
        if total is None:
            total = page.totalPages
        elif page.totalPages != total:
            raise FetchError("the number of pages changed during the sync; try again later")
        for item in page.result:
            seen = problems.get(item.id)
            if seen is not None and seen.title != item.title:
                raise FetchError(f"problem {item.id} came back with two different titles")
            problems[item.id] = item
        if progress is not None:
            progress(page_no, max(total, 1))
        if page_no >= total:
            break
        page_no += 1
        sleep(options.page_delay)
    return sorted(problems.values(), key=lambda p: p.id)


def _fetch_page(
    http: requests.Session, url: str, page_no: int, options: FetchOptions, sleep: Sleep
) -> ApiPage:
    params: dict[str, str | int] = {
        "page": page_no,
        "perPage": options.per_page,
        "levels[]": options.level,
        "order": "recent",
    }
    last = ""
    for attempt in range(options.retries + 1):
        if attempt:
            sleep(options.backoff * 2 ** (attempt - 1))
        try:
            response = http.get(url, params=params, timeout=options.timeout)
            return _parse_page(response, page_no)
        except _Retryable as exc:
            last = str(exc)
        except requests.Timeout:
            last = f"no answer within {options.timeout:g} s"
        except requests.ConnectionError as exc:
            last = f"could not connect ({type(exc).__name__})"
    raise FetchError(f"page {page_no} failed after {options.retries + 1} tries: {last}")
