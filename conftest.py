"""Root pytest configuration: the shared kernel fixtures."""

pytest_plugins = ["putokaz.testing"]
