"""Stores: where persisted pipelines write, and where the runtime keeps its state."""
