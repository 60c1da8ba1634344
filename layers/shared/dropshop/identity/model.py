"""Users, their groups and what each group may do."""

from __future__ import annotations

from dataclasses import dataclass, field

# The one place that says what a group may do; the frontend shows or hides features from this list.
PERMISSIONS_BY_GROUP: dict[str, frozenset[str]] = {
    "customer": frozenset(
        {
            "catalog:read",
            "orders:place",
            "orders:read:own",
            "invoices:read:own",
            "telemetry:send",
        }
    ),
    "admin": frozenset(
        {
            "catalog:read",
            "catalog:write",
            "orders:read:any",
            "orders:change-status",
            "invoices:read:any",
            "files:read",
            "telemetry:send",
            "pipeline:write",  # through POST /writer with the access token: see SCOPES_BY_GROUP
        }
    ),
}

# The OAuth scopes a group's members carry in their access tokens, added at every sign-in and refresh by the
# pool's pre token generation trigger: `dropshop/pipeline.write` is what POST /writer's JWT authorizer asks for.
SCOPES_BY_GROUP: dict[str, frozenset[str]] = {
    "admin": frozenset({"dropshop/pipeline.write"}),
}
GRANTABLE_SCOPES: frozenset[str] = frozenset().union(*SCOPES_BY_GROUP.values())


# The only group a user can get without an admin: signing up and confirming makes a shopper, never more.
SELF_SIGN_UP_GROUP = "customer"


def permissions_for(groups: list[str]) -> list[str]:
    """The union of what the groups grant, sorted; unknown groups grant nothing."""
    granted: set[str] = set()
    for group in groups:
        granted |= PERMISSIONS_BY_GROUP.get(group, frozenset())
    return sorted(granted)


@dataclass(frozen=True)
class TokenScopes:
    """What a user's access token gains and loses: every grantable scope is in exactly one of the two."""

    granted: list[str]
    withheld: list[str]


def access_token_scopes(groups: list[str]) -> TokenScopes:
    """The scopes the groups grant, and the other grantable ones withheld: if a client were ever allowed to
    request such a scope, a user outside its groups would still not get it. Group names match exactly, as
    Cognito's do (`Admin` or ` admin` is another group, granting nothing)."""
    granted: set[str] = set()
    for group in groups:
        granted |= SCOPES_BY_GROUP.get(group, frozenset())
    return TokenScopes(granted=sorted(granted), withheld=sorted(GRANTABLE_SCOPES - granted))


@dataclass(frozen=True)
class Principal:
    """A caller whose token was verified."""

    user_id: str
    username: str
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the directory holds them now; a token only says what was true when it was issued."""

    username: str
    enabled: bool
    attributes: dict[str, str]
    groups: list[str]

    @property
    def user_id(self) -> str | None:
        return self.attributes.get("sub")


@dataclass(frozen=True)
class Contact:
    """Where to reach a user: what the directory holds now, not what an old token said."""

    user_id: str
    email: str
    name: str | None
    email_verified: bool


@dataclass(frozen=True)
class Profile:
    user_id: str
    username: str
    email: str | None
    name: str | None
    groups: list[str]
    permissions: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "userId": self.user_id,
            "username": self.username,
            "email": self.email,
            "name": self.name,
            "groups": self.groups,
            "permissions": self.permissions,
        }
