"""Replacements for parts of Rasa 3.6 that measured too slow, each tested against Rasa's own behaviour.

Each patch replaces a private piece of the exact Rasa version pinned in pyproject.toml, and its test
fails if that piece changes shape. connectors/guard.py applies them when the Rasa server builds its
channels, before the first message.
"""
