"""Small flat states, one per concern; identity always comes from AuthState's cookie, resolved server-side."""
