# Drop Shop backend: the front door. Every target installs what it needs on a fresh machine first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_PY := $(shell pyenv root 2>/dev/null)/versions/3.13.0/bin/python3.13
PYTHON ?= $(shell command -v python3.13 || echo $(PYENV_PY))
VENV := .venv
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
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
FAULTS ?= off
FN ?= TelemetryFunction
EVENT ?= events/telemetry/batch.json

.PHONY: help setup local test e2e lint openapi build build-local account preflight deploy invoke start-api token bench refusals clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/activate: requirements-dev.txt layers/shared/requirements.txt $(wildcard handlers/*/requirements.txt)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(BIN)/activate ## Create .venv (Python 3.13) with the runtime, test and tooling dependencies

local: setup ## The whole backend on 127.0.0.1: PORT=3000 (APIs), WS_PORT=3001, AWS_PORT=5000 (moto), FAULTS=aws (AWS's weather); Ctrl-C stops it
	$(BIN)/python -m tools.local --port $(PORT) --websocket-port $(WS_PORT) --aws-port $(AWS_PORT) --faults $(FAULTS)

test: setup ## Run every test suite (unit, integration, template, e2e)
	$(BIN)/pytest

# The stack ENV names in samconfig.toml, unless STACK names another.
DEPLOYED_STACK = $(or $(STACK),$(shell $(BIN)/python -c 'from tools.preflight import load_target; print(load_target("$(ENV)").stack_name)'))

e2e: setup ## The journeys (tests/e2e) against a deployed stack: ENV=dev|prod or STACK=<name>; a prod stack only with ALLOW_PROD=1
	DROPSHOP_E2E_STACK="$(DEPLOYED_STACK)" ALLOW_PROD="$(ALLOW_PROD)" $(BIN)/pytest tests/e2e

$(CHECKOV_VENV)/bin/checkov: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
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

openapi: setup ## Regenerate docs/openapi.json from the functions' routes and models (a test fails when it is stale)
	$(BIN)/python -m tools.openapi

# SAM's build cache does not tell architectures apart (a cached x86_64 layer would be reused for arm64):
# one cache per architecture.
build: setup ## sam build for deploys (arm64)
	ARCH=arm64 $(BIN)/sam build --cache-dir .aws-sam/cache-arm64 --parameter-overrides Architecture=arm64

build-local: setup ## sam build for sam local on this machine's architecture
	ARCH=$(LOCAL_ARCH) $(BIN)/sam build --cache-dir .aws-sam/cache-$(LOCAL_ARCH) --parameter-overrides Architecture=$(LOCAL_ARCH)

account: setup ## Once per AWS account and region, before the first stack: API Gateway's logging role [GITHUB_REPOSITORY=owner/repo: the pipeline's roles]
	$(BIN)/sam deploy --config-env account $(if $(GITHUB_REPOSITORY),--parameter-overrides GitHubRepository=$(GITHUB_REPOSITORY))

preflight: setup ## Read-only checks of the account and parameters before a deploy: ENV=dev|prod [STACK=<name>]
	$(BIN)/python -m tools.preflight --env $(ENV) $(if $(STACK),--stack "$(STACK)")

deploy: preflight build ## make preflight, then sam deploy: ENV=dev|prod [STACK=<name>] [DEPLOY_FLAGS=<sam deploy flags>]
	$(BIN)/sam deploy --config-env $(CONFIG_ENV) $(if $(STACK),--stack-name "$(STACK)") $(DEPLOY_FLAGS)

invoke: build-local ## sam local invoke FN=<LogicalId> EVENT=<events/...json> (needs Docker)
	$(BIN)/sam local invoke $(FN) -e $(EVENT) --parameter-overrides Architecture=$(LOCAL_ARCH)

start-api: build-local ## sam local start-api on http://127.0.0.1:3000 (needs Docker)
	$(BIN)/sam local start-api --parameter-overrides Architecture=$(LOCAL_ARCH)

token: setup ## A token: AS=customer|admin|machine from `make local`; LOGIN=.. PASSWORD=.. [EVENT=..] or BATCH=1 from a stack; KIND=access: a user's access token (an admin's opens POST /writer)
# AS is also make's built-in name for the assembler (`as`), and EVENT has invoke's default: only the caller's count.
ifneq ($(origin AS),default)
	@$(BIN)/python -m tools.local token --as $(AS) $(if $(filter access,$(KIND)),--access)
else ifdef BATCH
	@$(BIN)/python -m tools.token --client-credentials
else
	@$(BIN)/python -m tools.token --username "$(LOGIN)" --password "$(PASSWORD)" $(if $(filter-out file,$(origin EVENT)),--event $(EVENT)) $(if $(filter access,$(KIND)),--access)
endif

bench: setup ## Benchmarks: handler cold init (vs the cookbook peer and the boto3 floor; with/without .pyc); pipeline requests, speed, memory; make local's start-up
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.pipeline_bench
	$(BIN)/python -m tools.local_bench

refusals: setup ## Every record the pipeline refused (LogTable), newest first: STACK=.. [ORIGIN=s3://bucket/key] [TABLE=..]
	@$(BIN)/python -m tools.refusals --stack "$(or $(STACK),dropshop-dev)" $(if $(ORIGIN),--origin "$(ORIGIN)") $(if $(TABLE),--table "$(TABLE)")

clean: ## Remove build output and caches (keeps .venv)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
