"""Cognito post-confirmation trigger: a user who confirmed their own sign-up becomes a customer."""

from dropshop.identity import service as identity
from dropshop.platform.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    identity.welcome(event["triggerSource"], user_pool_id=event["userPoolId"], username=event["userName"])
    return event  # Cognito expects its event back
