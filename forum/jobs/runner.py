"""Chooses the job runner from the settings: arq when Redis is configured, else embedded."""

from __future__ import annotations

from forum.jobs import JobQueue
from forum.jobs.embedded import EmbeddedQueue
from forum.jobs.registry import JobRegistry
from forum.plugins import PluginManager
from forum.settings import Settings


def build_queue(settings: Settings, plugins: PluginManager) -> JobQueue:
    registry = JobRegistry(plugins)
    if settings.redis_url:
        from forum.jobs.redis import ArqQueue

        return ArqQueue(registry, settings)
    return EmbeddedQueue(
        registry,
        poll_seconds=settings.job_poll_seconds,
        max_tries=settings.job_max_tries,
        retry_base_seconds=settings.job_retry_base_seconds,
        lease_seconds=settings.job_lease_seconds,
    )
