"""The deployment hook's smoke events carry this source, which only a direct invocation can carry: Lambda's
mappings write aws:sqs or aws:dynamodb, EventBridge rules here match aws.s3 only. Whoever meets it
acknowledges the event without acting on it (see dropshop.operations.canary)."""

SMOKE_EVENT_SOURCE = "dropshop:smoke"
