"""The HTTP API (`python -m engine.api`): behaviour events, audience CSV import, provider receipts.

`engine.api.app` is the Starlette app; `engine.api.keys` manages the per-workspace API keys (importable
without Starlette, e.g. by the UI's settings page).
"""
