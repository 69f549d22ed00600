"""The action server (`rasa run actions`): vetted replies from content/."""
