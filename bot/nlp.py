"""German spaCy pipeline without a downloadable model.

``spacy.blank("de")`` plus the lookup lemmatizer whose tables come from the
``spacy-lookups-data`` package. Nothing is fetched from the network.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "nlp" / "de_blank"


def build_blank_de():
    """A fresh German pipeline: tokenizer + lookup lemmatizer."""
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def blank_de():
    """The shared pipeline of this process, built on first use (not at import)."""
    if (DEFAULT_MODEL_DIR / "config.cfg").exists():
        import spacy

        return spacy.load(DEFAULT_MODEL_DIR)
    return build_blank_de()


def save_blank_de(path: Path | str = DEFAULT_MODEL_DIR) -> Path:
    """Save the pipeline to a folder that Rasa's ``SpacyNLP`` can load by path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    build_blank_de().to_disk(path)
    return path
