"""Hook implementations of the topics domain (search_plugin); see forum/topics/plugin.py."""

from __future__ import annotations
