"""A local stand-in for the SMS / digital SMS / WeChat / template message / app push providers.

It speaks the provider protocol of `engine.channels.provider`, decides each message's fate from a hash of
its id (so the same ids always get the same outcomes for given rates), records every message it receives
(duplicates counted apart, for exactly-once checks) and POSTs delivery receipts to a callback URL after a
delay, like a real SMS gateway's status callback. Start it with `python -m engine.simulator`.
"""

from engine.simulator.app import create_app
from engine.simulator.server import SimulatorServer
from engine.simulator.state import SimConfig, Simulator

__all__ = ["SimConfig", "Simulator", "SimulatorServer", "create_app"]
