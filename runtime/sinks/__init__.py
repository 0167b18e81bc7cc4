"""Sinks: where batches go besides the store, each on its own task."""
