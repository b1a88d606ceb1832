"""Reflex UI of the automated marketing platform: pages call engine services, never SQL."""
