"""Which functions `make local` runs: every function the template invokes, warmed up in the background;
CodeDeploy's traffic hooks are left out, since nothing deploys locally."""

from __future__ import annotations

from tests.e2e.conftest import eventually
from tools.local.server import LocalStack, deployment_hooks


def test_every_invoked_function_runs_and_warms_up_and_deployment_hooks_do_not(local: LocalStack) -> None:
    assert local.stack is not None
    declared = set(local.stack.of_type("AWS::Serverless::Function"))
    hooks = deployment_hooks(local.stack)

    assert hooks  # the template's canaries have a PreTraffic hook
    assert set(local.functions) == declared - hooks
    eventually(lambda: all(function.workers for function in local.functions.values()), timeout=60)
