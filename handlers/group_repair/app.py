"""Every quarter hour: a new confirmed user the sign-up trigger failed to place in a group joins `customer`."""

from dropshop.identity import service as identity
from dropshop.platform.observability import logger, metrics, tracer
from dropshop.platform.smoke import SMOKE_EVENT_SOURCE


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    if event.get("source") == SMOKE_EVENT_SOURCE:  # the deployment hook's: the version started, nothing to do
        return {"smoke": "acknowledged"}
    # The window is measured from the schedule's time, so a late run (an async retry) looks at the same users.
    return {"repaired": identity.repair_groups(as_of=event["time"])}
