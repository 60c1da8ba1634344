"""Cognito user pool trigger events, read through Powertools' data classes (the modules alone: the package's
__init__ would load every event source's class)."""

from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PreTokenGenerationV2TriggerEvent
from aws_lambda_powertools.utilities.data_classes.event_source import event_source

__all__ = ["PreTokenGenerationV2TriggerEvent", "event_source"]
