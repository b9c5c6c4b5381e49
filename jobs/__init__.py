"""Ingests as jobs: the jobs file, the queue workers take them from, the leases that keep
two workers off one feed, the schedules, and the embedded default's runner."""

from atmp_graph.jobs.config import JobsConfig, JobsConfigError, load_jobs_config
from atmp_graph.jobs.runs import queue_depth

__all__ = ["JobsConfig", "JobsConfigError", "load_jobs_config", "queue_depth"]
