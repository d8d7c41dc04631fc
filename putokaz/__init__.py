"""Putokaz shared kernel: settings, auth, database, errors, logging, events, test fixtures."""
