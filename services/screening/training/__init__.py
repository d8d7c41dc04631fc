"""Training mode: fictional vignettes with an expert key, and practice screenings kept apart from real ones."""
