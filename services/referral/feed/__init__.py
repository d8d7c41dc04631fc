"""The internal feed from the screening service: consent states, submitted screenings, withdrawals."""
