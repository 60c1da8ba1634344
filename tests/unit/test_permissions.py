"""Groups grant permissions; the mapping lives in the domain, not in handlers or the frontend."""

from __future__ import annotations

from dropshop.identity.model import PERMISSIONS_BY_GROUP, SCOPES_BY_GROUP, permissions_for


def test_customer_may_shop_but_not_administer() -> None:
    granted = permissions_for(["customer"])
    assert {"catalog:read", "orders:place", "orders:read:own"} <= set(granted)
    assert "catalog:write" not in granted
    assert "orders:change-status" not in granted


def test_admin_may_manage_the_catalog_and_orders() -> None:
    granted = permissions_for(["admin"])
    assert {"catalog:write", "orders:read:any", "orders:change-status", "files:read"} <= set(granted)


def test_several_groups_grant_the_sorted_union_once() -> None:
    granted = permissions_for(["customer", "admin"])
    assert granted == sorted(PERMISSIONS_BY_GROUP["customer"] | PERMISSIONS_BY_GROUP["admin"])


def test_unknown_and_missing_groups_grant_nothing() -> None:
    assert permissions_for(["hacker"]) == []
    assert permissions_for([]) == []


def test_only_admins_are_told_they_may_write_to_the_pipeline_as_the_token_trigger_lets_them() -> None:
    """GET /session's list is how the frontend learns it; SCOPES_BY_GROUP is what makes it true on POST /writer."""
    assert [group for group in PERMISSIONS_BY_GROUP if "pipeline:write" in permissions_for([group])] == ["admin"]
    assert [group for group, scopes in SCOPES_BY_GROUP.items() if "dropshop/pipeline.write" in scopes] == ["admin"]
