"""Referrals: the consent gate, the lifecycle, expiry and escalation."""
