"""A community Q&A forum and paid-priority support queue for open-source projects."""

__version__ = "0.1.0"
