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

    def by_id(self, user_id: str) -> dict[str, str]:
        """The attributes of the user whose `sub` is `user_id` (what orders record), or {} if there is none."""
        if '"' in user_id or "\\" in user_id:  # a sub is a UUID; anything else cannot be quoted into the filter
            return {}
        users = self._cognito.list_users(UserPoolId=self._user_pool_id, Filter=f'sub = "{user_id}"', Limit=1)
        found = users.get("Users", [])
        return {a["Name"]: a["Value"] for a in found[0].get("Attributes", [])} if found else {}
