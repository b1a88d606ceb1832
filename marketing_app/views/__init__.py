"""Page sections bound to a state."""
