"""The jobs and cron entries registered through the ``forum_jobs`` / ``forum_cron`` hooks."""

from __future__ import annotations

from datetime import datetime

from forum.hookspecs import CronDefinition, JobDefinition
from forum.plugins import PluginManager


class JobRegistry:
    def __init__(self, plugins: PluginManager) -> None:
        self.jobs: dict[str, JobDefinition] = {}
        for job in plugins.collect("forum_jobs"):
            if job.name in self.jobs:
                raise ValueError(f"job {job.name!r} is registered twice")
            self.jobs[job.name] = job
        self.cron: list[CronDefinition] = plugins.collect("forum_cron")
        for entry in self.cron:
            if entry.job not in self.jobs:
                raise ValueError(f"cron entry names unknown job {entry.job!r}")

    def get(self, name: str) -> JobDefinition:
        try:
            return self.jobs[name]
        except KeyError:
            raise KeyError(f"unknown job {name!r}") from None

    def due(self, minute: datetime) -> list[CronDefinition]:
        """Cron entries that match this UTC minute."""
        return [
            entry for entry in self.cron
            if (entry.minute is None or minute.minute in entry.minute)
            and (entry.hour is None or minute.hour in entry.hour)
            and (entry.weekday is None or minute.weekday() in entry.weekday)
        ]


def cron_key(entry: CronDefinition) -> str:
    return f"{entry.job}:{sorted(entry.kwargs.items())}"
