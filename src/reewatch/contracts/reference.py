"""Contracts for reference statistics and press claims (filled in with those sources)."""
