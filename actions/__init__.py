"""Thin Rasa SDK actions: they translate between the tracker and the domain core in `bot/`."""
