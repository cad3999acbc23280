"""Reliability and security: fuzzing, tokens and roles, faults, load and headers over real servers."""
