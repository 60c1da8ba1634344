"""The user directory (Cognito): the only place that knows how user attributes are stored."""

from __future__ import annotations

from typing import Any


class UserDirectory:
    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self._cognito = cognito
        self._user_pool_id = user_pool_id

    def attributes(self, username: str) -> dict[str, str]:
        """The user's current attributes (ID tokens only carry what was true when they were issued)."""
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._user_pool_id, Username=username)
        except self._cognito.exceptions.UserNotFoundException:
            return {}
        return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
