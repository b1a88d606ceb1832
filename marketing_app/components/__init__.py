"""Stateless building blocks: everything they show arrives as arguments (plain values or state vars)."""
