"""Connector kinds (sources and sinks): one module each, holding its configuration model."""
