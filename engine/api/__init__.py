"""The HTTP API (`python -m engine.api`): behaviour events, audience CSV import, provider receipts.

`engine.api.app` is the Starlette app; `engine.api.keys` re-exports the API keys' service
(engine/services/api_keys.py: named keys per workspace, which the Settings page manages).
"""
