"""German spaCy pipeline without a downloadable model.

``spacy.blank("de")`` plus the lookup lemmatizer whose tables come from the
``spacy-lookups-data`` package. Nothing is fetched from the network.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from pathlib import Path

from bot.config import quiet_tensorflow

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "nlp" / "de_blank"


def import_spacy():
    """Import spaCy without letting thinc pull in TensorFlow.

    thinc probes for TensorFlow on import; it is installed (Rasa needs it) but costs seconds
    and hundreds of MB, and nothing here uses it. The block lasts only for this import, so the
    same process can still import TensorFlow itself later (e.g. Rasa in a test session).
    """
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    quiet_tensorflow()
    blocked = [name for name in ("tensorflow", "torch") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" fail fast
    try:
        import spacy

        importlib.import_module("thinc.api")  # thinc probes for TensorFlow here, while blocked
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return spacy


def build_blank_de():
    """A fresh German pipeline: tokenizer + lookup lemmatizer."""
    spacy = import_spacy()

    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def blank_de():
    """The shared pipeline of this process, built on first use (not at import)."""
    if (DEFAULT_MODEL_DIR / "config.cfg").exists():
        return import_spacy().load(DEFAULT_MODEL_DIR)
    return build_blank_de()


def save_blank_de(path: Path | str = DEFAULT_MODEL_DIR) -> Path:
    """Save the pipeline to a folder that Rasa's ``SpacyNLP`` can load by path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    build_blank_de().to_disk(path)
    return path
