"""The user directory (Cognito): the only place that knows how user attributes are stored."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from dropshop.identity.model import DirectoryUser

# A user's `sub` as Cognito writes it: a UUID in lower case ("User pool attributes", Amazon Cognito developer guide).
# Any other id names nobody (the filter's `=` matches exactly), so it is never quoted into a ListUsers filter.
SUB = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class UserDirectory:
    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self._cognito = cognito
        self._user_pool_id = user_pool_id

    def current(self, username: str) -> DirectoryUser | None:
        """The user as the pool holds them now (enabled or not, attributes, groups), or None once deleted."""
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._user_pool_id, Username=username)
        except self._cognito.exceptions.UserNotFoundException:
            return None
        pages = self._cognito.get_paginator("admin_list_groups_for_user").paginate(
            UserPoolId=self._user_pool_id, Username=username
        )
        groups = sorted(group["GroupName"] for page in pages for group in page.get("Groups", []))
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return DirectoryUser(
            username=user["Username"], enabled=bool(user.get("Enabled", True)), attributes=attributes, groups=groups
        )

    def add_to_group(self, username: str, group: str) -> None:
        """Idempotent: adding a member again changes nothing."""
        self._cognito.admin_add_user_to_group(UserPoolId=self._user_pool_id, Username=username, GroupName=group)

    def confirmed_since(self, since: datetime) -> set[str]:
        """The enabled users who confirmed their sign-up and were created at or after `since` (ListUsers filtered
        on cognito:user_status; it filters on one attribute only, so the rest is filtered here)."""
        pages = self._cognito.get_paginator("list_users").paginate(
            UserPoolId=self._user_pool_id, Filter='cognito:user_status = "CONFIRMED"', AttributesToGet=[]
        )
        return {
            user["Username"]
            for page in pages
            for user in page.get("Users", [])
            if user.get("Enabled", True) and user["UserCreateDate"] >= since
        }

    def members(self, group: str) -> set[str]:
        pages = self._cognito.get_paginator("list_users_in_group").paginate(
            UserPoolId=self._user_pool_id, GroupName=group
        )
        return {user["Username"] for page in pages for user in page.get("Users", [])}

    def by_id(self, user_id: str) -> dict[str, str]:
        """The attributes of the user whose `sub` is `user_id` (what orders record), or {} if there is none."""
        if not SUB.fullmatch(user_id):  # a quote would break the filter (Cognito refuses it) or widen it (`^=`)
            return {}
        users = self._cognito.list_users(UserPoolId=self._user_pool_id, Filter=f'sub = "{user_id}"', Limit=1)
        found = users.get("Users", [])
        return {a["Name"]: a["Value"] for a in found[0].get("Attributes", [])} if found else {}
