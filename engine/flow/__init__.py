"""The flow: plain data (nodes with type/config/position, edges with branch handles) and pure functions on it."""
