"""The service directory (HSDS 3.1 organisations, locations, services, capacity) and matching."""
