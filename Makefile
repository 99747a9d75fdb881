# The two commands the README names. Both install what they need first (Debian 12, as root).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: demo test install bench lint packages

install:
	bash scripts/install.sh

demo: install
	$(PY) -m lab.demo

# Peers that are not installed fail the run here instead of skipping (COLO_LAB_STRICT).
# pytest's exit 5 (nothing collected) is not a failure.
test: install lint
	COLO_LAB_STRICT=1 $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

# The style gate (tools pinned in the test extra, config in pyproject.toml); part of `make test`.
lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy exporters/

bench: install
	for b in bench/*.py; do $(PY) $$b || exit 1; done

# The Debian packages (docs/deploy.md), into build/packages/. Needs only python3-venv: no install step.
packages:
	bash packaging/build.sh build/packages
