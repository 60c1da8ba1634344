"""One Logger, Tracer and Metrics per function, configured by the POWERTOOLS_* environment variables.

Handlers take everything observability-related from here, so they depend on the platform alone.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
# Patching every library X-Ray knows (the default) imports them all at cold start; dropshop.platform.aws
# patches botocore when a function creates its first client, so each function traces what it uses.
tracer = Tracer(auto_patch=False)
metrics = Metrics()

__all__ = ["MetricUnit", "correlation_paths", "logger", "metrics", "tracer"]
