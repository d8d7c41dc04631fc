"""The public gateway: JWT, route policy, rate limits, proxy."""
