"""CodeDeploy's PreTraffic hook for every function: smoke-test the new version before it takes traffic."""

from dropshop.operations import hook
from dropshop.platform import aws
from dropshop.platform.observability import logger, metrics

# Every run reads the deployment, invokes the new version and reports: build both clients during init.
aws.client("codedeploy")
aws.client("lambda")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event, context):
    return {"status": hook.handle(event)}
