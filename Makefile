# studybot — two commands from a fresh clone: `make run` and `make test`.
# Both first install the sandbox's system packages when missing and possible (else they
# print the command to run; scripts/system-packages.sh), then the venv (quietly: pip's
# output goes to $(VENV)/install.log and is shown only when installing fails).
# `make test` runs ruff, mypy (strict on bot/, db/, sandbox/) and the whole pytest suite.
# `make console` is the bot in a terminal on a simulated clock (ARGS="..." passes options).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOG    := $(VENV)/install.log
# the console's own database: simulated time never touches the bot's studybot.db
CONSOLE_DB ?= sqlite:///console.db
ARGS   ?=
SYSTEM_PACKAGES ?= scripts/system-packages.sh

.PHONY: system install run console test lint format bench clean

system:
	@$(SYSTEM_PACKAGES)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "studybot needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	@echo "studybot: installing into $(VENV) (log: $(LOG))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@{ $(PY) -m pip install -q --disable-pip-version-check --upgrade pip && \
	   $(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'; } >$(LOG) 2>&1 || \
		{ tail -n 40 $(LOG); echo "studybot: installing failed; the whole log is $(LOG)"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

run: system install
	@$(VENV)/bin/studybot db upgrade
	@$(VENV)/bin/studybot run

console: system install
	@$(VENV)/bin/studybot console --db $(CONSOLE_DB) --clock next-monday $(ARGS)

test: system install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/startup.py
	$(PY) bench/commands.py
	@if [ -n "$$STUDYBOT_TEST_POSTGRES_URL" ]; then \
		$(PY) bench/commands.py --database-url "$$STUDYBOT_TEST_POSTGRES_URL"; \
	else echo "bench/commands.py on PostgreSQL skipped: set STUDYBOT_TEST_POSTGRES_URL"; fi
	$(PY) bench/fanout.py
	$(PY) bench/sandbox.py
	$(PY) bench/remote_queue.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
