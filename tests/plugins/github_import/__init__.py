"""Tests of the GitHub bridge plugin, against a local HTTP fake of GitHub."""
