"""SQL back ends: DDL for persisted pipelines in every dialect, and pipelines as SQL."""
