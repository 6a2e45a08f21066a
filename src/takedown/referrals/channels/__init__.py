"""Referral channels: each a plugin registered through ``takedown_referral_channels``."""
