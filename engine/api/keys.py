"""The API's keys, as the HTTP API and the operator scripts import them: the rules live in
engine/services/api_keys.py (named keys per workspace, shown once, hashed, revocable, last use recorded)."""

from engine.services.api_keys import (
    KEY_PREFIX,
    MIN_KEY_LENGTH,
    create_api_key,
    has_api_key,
    hash_key,
    list_api_keys,
    revoke_api_key,
    set_api_key,
    workspace_for_key,
)

__all__ = ["KEY_PREFIX", "MIN_KEY_LENGTH", "create_api_key", "has_api_key", "hash_key", "list_api_keys",
           "revoke_api_key", "set_api_key", "workspace_for_key"]
