"""The strategy monitor: the national counter-trafficking action plan, its indicators and progress."""
