"""Starmark registry: the web service, its data and the `starmark` command."""
