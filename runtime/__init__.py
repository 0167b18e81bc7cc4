"""The CLI and, later, the runtime that schedules and executes compiled pipelines."""
