"""GitHub bridge: "+support" import, escalation, state sync and bulk import (issue 7)."""
