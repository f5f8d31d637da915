"""Contracts for licence-survey results (filled in with the survey sources)."""
