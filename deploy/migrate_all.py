"""Applies every service's migrations (the compose `migrate` step and the Kubernetes migration Job)."""

from deploy.dev import migrate

if __name__ == "__main__":
    migrate()
