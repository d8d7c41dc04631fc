"""Partner webhook subscriptions: endpoints, secrets, deliveries, replay."""
