# churnwatch: the two commands of the README, and a few more.
#   make demo   start everything with simulated customers (Ctrl-C stops it)
#   make test   lint, types, unit + integration tests on a real Kafka broker and PostgreSQL
.PHONY: bootstrap demo test lint test-long bench bench-1m infra-up infra-down clean

VENV := .venv/bin
PYTEST_ARGS ?=

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/churnwatch demo

lint: bootstrap
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/lint-imports --no-cache --no-logo

test: lint
	@bash scripts/ensure_chromium.sh
	$(VENV)/python -m pytest -m "not slow" -p no:cacheprovider $(PYTEST_ARGS)

test-long: bootstrap
	$(VENV)/python -m pytest -m slow -p no:cacheprovider $(PYTEST_ARGS)

bench: bootstrap
	$(VENV)/python -m bench $(BENCH_ARGS)

bench-1m: bootstrap  # scoring at 1,000,000 customers, 30 days: hours on 2 cores (docs/scaling.md)
	CW_BENCH_1M=1 $(VENV)/python -m bench --only scale1m $(BENCH_ARGS)

infra-up: bootstrap
	$(VENV)/churnwatch infra up

infra-down: bootstrap
	$(VENV)/churnwatch infra down

clean:
	-$(VENV)/churnwatch infra down
	rm -rf var .mypy_cache .ruff_cache
