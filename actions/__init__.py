"""Thin Rasa SDK actions: they translate between the tracker and the domain core in `bot/`.

Importing the package guards the action server that serves it (``actions/auth.py``): only
calls carrying the action secret run an action.
"""

from actions.auth import protect_action_server

protect_action_server()
