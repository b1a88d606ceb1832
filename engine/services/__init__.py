"""Services: keyword-only functions taking the acting user and a session; every rule is checked here."""
