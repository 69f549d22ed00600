"""The content library: reading, checking and signing off what the assistant says (content/*.yml).

The one way into content/ for every process: the action server (actions/), the Rasa server's
channels (connectors/guard.py), the widget build and the scripts. `content` loads and checks the
texts, `review` reads their review records and fingerprints them, `signoff` decides what may be
served.
"""
