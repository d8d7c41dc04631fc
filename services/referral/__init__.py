"""The referral service."""
