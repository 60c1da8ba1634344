# Drop Shop backend: the front door. Every target installs what it needs on a fresh machine first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_PY := $(shell pyenv root 2>/dev/null)/versions/3.13.0/bin/python3.13
PYTHON ?= $(shell command -v python3.13 || echo $(PYENV_PY))
VENV := .venv
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
UV := $(VENV)/uv/bin/uv
# sam build runs the layer's Makefile, which needs python3.13: the venv's comes first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

# Deploys are arm64 (the template's default); local containers use this machine's architecture.
LOCAL_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
ENV ?= dev
# samconfig.toml's section for ENV: [default] is dev's.
CONFIG_ENV := $(if $(filter dev default,$(ENV)),default,$(ENV))
PORT ?= 3000
WS_PORT ?= $(shell echo $$(($(PORT) + 1)))
AWS_PORT ?= 5000
# `make start-api` (sam local) beside `make local`: a port of its own; WARM=EAGER starts every container first.
SAM_PORT ?= 3002
WARM ?= LAZY
FAULTS ?= off
FN ?= TelemetryFunction
EVENT ?= events/telemetry/batch.json

.PHONY: help setup setup-local local upload download asyncapi test e2e lint openapi client build build-local account preflight deploy invoke start-api token bench refusals mutate clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The first run installs what `make local` needs (requirements-local.txt) with uv, which shows its progress;
# `make test`/`make lint` add the tooling (requirements-dev.txt). Stamps inside .venv mark each set done.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { echo "make: Python 3.13 is needed and '$(PYTHON)' is not it: install it (pyenv install 3.13, apt-get install python3.13, or python.org/downloads) or name it: make $(or $(MAKECMDGOALS),help) PYTHON=/path/to/python3.13" >&2; exit 1; }
	@echo "make: creating .venv with $(PYTHON)"
	@$(PYTHON) -m venv --without-pip $(VENV)

# uv goes in with the interpreter's own pip (a venv's pip would cost ensurepip's 5-20 s first).
$(UV): requirements-bootstrap.txt | $(BIN)/python
	@echo "make: installing the installer (uv) into .venv/uv"
	@if $(PYTHON) -m pip --version >/dev/null 2>&1; then pip="$(PYTHON) -m pip"; \
	else $(BIN)/python -m ensurepip --default-pip >/dev/null && pip="$(BIN)/python -m pip"; fi; \
	$$pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade --target $(VENV)/uv -r requirements-bootstrap.txt
	@touch $@

$(VENV)/.installed-local: requirements-local.txt layers/shared/requirements.txt $(wildcard handlers/*/requirements.txt) | $(UV)
	@echo "make: installing what make local needs into .venv (requirements-local.txt)"
	@$(UV) pip install --python $(BIN)/python -r requirements-local.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-local
	@echo "make: installing the test and tooling dependencies into .venv (requirements-dev.txt)"
	@$(UV) pip install --python $(BIN)/python -r requirements-dev.txt
	@touch $@

setup-local: $(VENV)/.installed-local ## Create .venv (Python 3.13) with what `make local` needs (the first run's only install)

setup: $(VENV)/.installed-dev ## Create .venv (Python 3.13) with the runtime, test and tooling dependencies

local: setup-local ## The whole backend on 127.0.0.1: PORT=3000 (APIs), WS_PORT=3001, AWS_PORT=5000 (moto), ORIGINS= (CORS), FAULTS=aws (AWS's weather); Ctrl-C stops it
	$(BIN)/python -m tools.local --port $(PORT) --websocket-port $(WS_PORT) --aws-port $(AWS_PORT) $(if $(ORIGINS),--origins '$(ORIGINS)') --faults $(FAULTS)

test: setup ## Run every test suite (unit, integration, template, e2e)
	$(BIN)/pytest

# The stack ENV names in samconfig.toml, unless STACK names another.
DEPLOYED_STACK = $(or $(STACK),$(shell $(BIN)/python -c 'from tools.preflight import load_target; print(load_target("$(ENV)").stack_name)'))

e2e: setup ## The journeys (tests/e2e) against a deployed stack: ENV=dev|prod or STACK=<name>; a prod stack only with ALLOW_PROD=1
	DROPSHOP_E2E_STACK="$(DEPLOYED_STACK)" ALLOW_PROD="$(ALLOW_PROD)" $(BIN)/pytest tests/e2e

$(CHECKOV_VENV)/bin/checkov: requirements-checkov.txt | $(UV)
	$(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(UV) pip install --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

# Both linters at zero findings: each one left is suppressed in the resource's Metadata, with its reason.
lint: setup $(CHECKOV_VENV)/bin/checkov ## cfn-lint (+ serverless rules), checkov, sam validate --lint, actionlint, ruff, mypy
	$(BIN)/cfn-lint template.yaml account/template.yaml -a cfn_lint_serverless.rules
	$(CHECKOV_VENV)/bin/checkov -f template.yaml -f account/template.yaml --framework cloudformation --skip-download --compact --quiet
	$(BIN)/sam validate --lint
	$(BIN)/actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

openapi: setup-local ## Regenerate docs/openapi.json from the functions' routes and models (a test fails when it is stale)
	$(BIN)/python -m tools.openapi

asyncapi: setup-local ## Regenerate docs/asyncapi.json (the WebSocket protocol) from its messages' models (a test fails when it is stale)
	$(BIN)/python -m tools.asyncapi

client: ## Regenerate clients/typescript/src/schema.d.ts (TypeScript types of docs/openapi.json) and type-check the client
	cd clients/typescript && npm ci --no-audit --no-fund && npx openapi-typescript ../../docs/openapi.json --output src/schema.d.ts && npx tsc --noEmit

# SAM's build cache does not tell architectures apart (a cached x86_64 layer would be reused for arm64):
# one cache per architecture.
build: setup ## sam build for deploys (arm64)
	ARCH=arm64 $(BIN)/sam build --cache-dir .aws-sam/cache-arm64 --parameter-overrides Architecture=arm64

build-local: setup ## sam build for sam local on this machine's architecture
	ARCH=$(LOCAL_ARCH) $(BIN)/sam build --cache-dir .aws-sam/cache-$(LOCAL_ARCH) --parameter-overrides Architecture=$(LOCAL_ARCH)

account: setup ## Once per AWS account and region, before the first stack: API Gateway's logging role [GITHUB_REPOSITORY=owner/repo: the pipeline's roles] [GITHUB_OIDC_PROVIDER_ARN=<the account's existing one>]
	$(BIN)/sam deploy --config-env account $(if $(GITHUB_REPOSITORY),--parameter-overrides GitHubRepository=$(GITHUB_REPOSITORY) $(if $(GITHUB_OIDC_PROVIDER_ARN),GitHubOidcProviderArn=$(GITHUB_OIDC_PROVIDER_ARN)))

preflight: setup ## Read-only checks of the account and parameters before a deploy: ENV=dev|prod [STACK=<name>]
	$(BIN)/python -m tools.preflight --env $(ENV) $(if $(STACK),--stack "$(STACK)")

deploy: preflight build ## make preflight, then sam deploy: ENV=dev|prod [STACK=<name>] [DEPLOY_FLAGS=<sam deploy flags>]
	$(BIN)/sam deploy --config-env $(CONFIG_ENV) $(if $(STACK),--stack-name "$(STACK)") $(DEPLOY_FLAGS)

invoke: build-local ## sam local invoke FN=<LogicalId> EVENT=<events/...json> (needs Docker)
	$(BIN)/sam local invoke $(FN) -e $(EVENT) --parameter-overrides Architecture=$(LOCAL_ARCH)

start-api: build-local ## sam local start-api on http://127.0.0.1:3002 (SAM_PORT=) with make local's data, beside it (needs Docker)
	$(BIN)/python -m tools.local start-api --port $(SAM_PORT) --warm-containers $(WARM) -- --parameter-overrides Architecture=$(LOCAL_ARCH)

token: setup-local ## A token: AS=customer|admin|machine from `make local`; LOGIN=.. PASSWORD=.. [EVENT=..] or BATCH=1 from a stack; KIND=access: a user's access token (an admin's opens POST /writer)
# AS is also make's built-in name for the assembler (`as`), and EVENT has invoke's default: only the caller's count.
ifneq ($(origin AS),default)
	@$(BIN)/python -m tools.local token --as $(AS) $(if $(filter access,$(KIND)),--access)
else ifdef BATCH
	@$(BIN)/python -m tools.token --client-credentials
else
	@$(BIN)/python -m tools.token --username "$(LOGIN)" --password "$(PASSWORD)" $(if $(filter-out file,$(origin EVENT)),--event $(EVENT)) $(if $(filter access,$(KIND)),--access)
endif

upload: setup-local ## Put FILE=<path> into make local's data bucket (incoming/): the pipeline picks it up
	@$(BIN)/python -m tools.local upload "$(FILE)"

download: setup-local ## Wait for DOC=invoice|credit-note of ORDER=<id> on make local, save its PDF in downloads/ (AS=customer|admin)
	@$(BIN)/python -m tools.local download $(DOC) "$(ORDER)" --as $(if $(filter-out default,$(origin AS)),$(AS),customer)

mutate: setup ## Mutation testing (mutmut) of the domain contexts against their unit tests: each context's score; CONTEXTS="identity ..", CHILDREN=n (slow; not in CI)
	$(BIN)/python -m tools.mutate $(if $(CONTEXTS),--contexts $(CONTEXTS)) $(if $(CHILDREN),--max-children $(CHILDREN))

bench: setup ## Benchmarks: handler cold init (vs the cookbook peer and the boto3 floor; with/without .pyc); pipeline CPU per record, requests, speed, memory; make local's start-up
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.cpu_bench
	$(BIN)/python -m tools.pipeline_bench
	$(BIN)/python -m tools.local_bench

refusals: setup-local ## Every record the pipeline refused (LogTable), newest first: LOCAL=1 (make local's) or STACK=.. [ORIGIN=s3://bucket/key] [TABLE=..]
	@$(BIN)/python -m tools.refusals $(if $(LOCAL),--local,--stack "$(or $(STACK),dropshop-dev)") $(if $(ORIGIN),--origin "$(ORIGIN)") $(if $(TABLE),--table "$(TABLE)")

clean: ## Remove build output and caches (keeps .venv)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
