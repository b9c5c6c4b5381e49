"""Ingests as jobs."""
