"""Cognito pre token generation trigger (V2_0): admins' access tokens carry `dropshop/pipeline.write`."""

from dropshop.identity import service as identity
from dropshop.platform.cognito_triggers import PreTokenGenerationV2TriggerEvent, event_source
from dropshop.platform.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=PreTokenGenerationV2TriggerEvent)
def lambda_handler(event: PreTokenGenerationV2TriggerEvent, context):
    return identity.scope_tokens(event).raw_event  # Cognito expects its event back, its response filled in
