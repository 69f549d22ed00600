"""Rasa input channels that send each bot reply as one message with its metadata."""
