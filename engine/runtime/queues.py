"""The walks' Dramatiq queue, named once: the actor that walks batches consumes it, the broker polls it quickly
when idle (its dead-worker pass brings a killed worker's batches back), the rescue looks for lost batches in it."""

WALKS = "steps"
