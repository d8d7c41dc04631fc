"""Root pytest configuration: the shared kernel fixtures, and a throwaway var/ for the session."""

import os
import tempfile

# Dev-only files (secrets, keys, SQLite) that settings may create go to a temporary folder, never
# to the developer's own var/. Set before the kernel is imported (it reads this at import time).
os.environ.setdefault("PUTOKAZ_VAR_DIR", tempfile.mkdtemp(prefix="putokaz-test-var-"))

# The kernel's fixtures, then the whole-system `stack` fixture (deploy/stack.py wires the services).
pytest_plugins = ["putokaz.testing", "deploy.stack"]
