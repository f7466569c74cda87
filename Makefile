# DATAS: `make run` (the whole system, embedded default) and `make test`.
# Each target creates .venv and installs what it needs when missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export DATAS_HOME ?= $(CURDIR)/.datas

.PHONY: run test lint bench venv system-deps clean agent-exe

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[server,agent,dev]'
	@# INDI's Python client builds against system libraries (scripts/system-packages.txt):
	@# without them the INDI tests skip with a message (and fail under CI=true).
	@$(PY) -m pip install --quiet -e '.[indi]' > $(VENV)/indi-install.log 2>&1 || echo "note: the \
	optional INDI extra did not build (details: $(VENV)/indi-install.log); INDI devices and tests \
	need 'make system-deps' as root (libdbus-1-dev, libglib2.0-dev, pkg-config)"
	@touch $@

run: venv
	$(VENV)/bin/datas up

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# System packages the tests need (installed only when running as root, e.g. in CI).
system-deps:
	@if [ "$$(id -u)" = "0" ]; then bash scripts/install_system_deps.sh; \
	else echo "not root: skipping system packages (tests needing them will say how to install)"; fi

# pytest exit status 5 means "no tests collected": never a silent pass.
test: system-deps venv lint
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

bench: venv
	$(PY) benchmarks/run_all.py

# The site agent as one executable: dist/datas-agent (on Windows: pyinstaller packaging/datas-agent.spec).
agent-exe: venv
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build packaging/datas-agent.spec
	@ls -l dist/datas-agent

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
