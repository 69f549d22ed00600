"""Deciding whether a parent's message is urgent, inside the Rasa server.

Lives in the NLU pipeline rather than the action server so the urgent reply
never depends on the action server being up.
"""
