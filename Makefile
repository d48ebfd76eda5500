# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench clean i18n screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps re-run the install whenever the project's dependencies change.
$(VENV)/.installed-run: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/starmark db migrate
	STARMARK_PUBLIC_URL=$${STARMARK_PUBLIC_URL:-http://$(HOST):$(PORT)} $(BIN)/starmark demo
	$(BIN)/starmark serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

# Gettext catalogs (docs/verification-page.md): each domain has registry/locale/<domain>.cfg
# (what to extract); this extracts <domain>.pot, updates (or starts) zh_CN/<domain>.po and
# any other locale's existing .po, and reports what is left to translate. Only the .po files
# are committed: the app compiles them in memory when it starts.
I18N_LOCALES ?= zh_CN en
i18n: $(VENV)/.installed-run
	@set -e; for cfg in registry/locale/*.cfg; do \
	  domain=$$(basename $$cfg .cfg); pot=registry/locale/$$domain.pot; \
	  $(BIN)/pybabel -q extract -F $$cfg -o $$pot --sort-by-file --no-wrap --project=Starmark . ; \
	  for locale in $(I18N_LOCALES); do \
	    po=registry/locale/$$locale/LC_MESSAGES/$$domain.po; \
	    if [ -f $$po ]; then \
	      $(BIN)/pybabel -q update -D $$domain -i $$pot -d registry/locale -l $$locale --no-wrap --ignore-obsolete; \
	    elif [ $$locale = zh_CN ]; then \
	      $(BIN)/pybabel -q init -D $$domain -i $$pot -d registry/locale -l $$locale --no-wrap; \
	    fi; \
	    if [ -f $$po ]; then $(BIN)/pybabel compile --statistics -i $$po -o /dev/null -l $$locale 2>&1 | grep translated; fi; \
	  done; \
	done

# The console's screenshots in docs/screenshots/console/ (docs/console.md).
screenshots: $(VENV)/.installed-dev
	$(BIN)/python docs/screenshots/console_pages.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
