"""Klartext domain core: playbooks, texts, storage. No Rasa imports here."""
