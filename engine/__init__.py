"""Domain layer of the automated marketing platform.

Everything a worker, the scheduler or the UI needs to decide or change lives here; it never imports the UI.
"""
