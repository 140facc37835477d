"""Social mentions bridge: mentions of a project on X, Mastodon and Bluesky become threads."""
