# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: demo test lint format bench translations extract-messages fonts browser apt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages a label sheet and the browser tests need; installed when missing and root.
# WeasyPrint (the ledgers' and reports' PDFs) warns, and so fails the tests, without HarfBuzz's
# subsetting library.
fonts:
	@[ -e $(CJK_FONT) ] || fc-list :lang=zh file 2>/dev/null | grep -q . || $(MAKE) --no-print-directory apt PKGS=fonts-wqy-microhei
	@/sbin/ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || $(MAKE) --no-print-directory apt PKGS=libharfbuzz-subset0

browser:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || $(MAKE) --no-print-directory apt PKGS=chromium

apt:
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PKGS); \
	else \
		echo "Houqin needs Debian's $(PKGS): run  sudo apt-get install $(PKGS)"; exit 1; \
	fi

translations: $(STAMP)
	$(BIN)/pybabel compile -d houqin/translations

# After changing user-facing strings: refresh the template and the zh_CN catalogue, then translate.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location --sort-output --width 100 \
		-o houqin/translations/messages.pot models webapp houqin bot scheduler qr_labels channels settings
	$(BIN)/pybabel update -i houqin/translations/messages.pot -d houqin/translations --width 100

demo: $(STAMP) fonts translations
	$(BIN)/houqin demo

# Style, types (mypy, config in pyproject.toml) and the import contract the README draws (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) fonts browser translations lint
	$(BIN)/pytest

bench: $(STAMP) translations
	$(BIN)/python -m bench
	$(BIN)/python -m bench.imports
	$(BIN)/python -m bench.score
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.labels
	$(BIN)/python -m bench.field
	$(BIN)/python -m bench.channels
	$(BIN)/python -m bench.object_store
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.asset_page
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
