"""Telling apart what the English-only model can read from what it can't."""
