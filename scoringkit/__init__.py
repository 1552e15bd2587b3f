"""scoringkit: turn a story into music that follows its emotion.

The pipeline, one plain function per arrow::

    segment_story → analyze_text → emotion_to_intent → compose → render / Soundtrack.write
    (score_story runs them all)

Names are imported lazily, so ``import scoringkit`` stays fast; heavy libraries
load only when a function that needs them runs.

Examples
--------
>>> import scoringkit as sk
>>> emotion = sk.analyze_text("The whole village sang and danced with joy!", backend="lexicon")
>>> emotion.quadrant
1
>>> sk.emotion_to_intent(emotion).mode
'major'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Emotion": "types", "Scene": "types", "MusicalIntent": "types", "Note": "types", "Track": "types",
    "Score": "types", "Cue": "types", "Soundtrack": "types", "EMOTION_LABELS": "types",
    "ScoringKitError": "errors", "InputError": "errors", "ModelError": "errors", "RenderError": "errors",
    "analyze_text": "emotion", "segment_story": "emotion",
    "emotion_arc": "emotion.arc", "change_points": "emotion.arc", "EmotionArc": "emotion.arc",
    "audio_features": "extract", "AudioFeatures": "extract",
    "symbolic_features": "extract", "SymbolicFeatures": "extract",
    "music_emotion": "fuse", "emotion_match": "fuse", "emotion_to_intent": "mapping",
    "compose": "generate",
    "score_story": "generate.soundtrack",
    "render": "synth",
    "read_text_file": "io", "write_wav": "io",
    "example_story": "assets",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scoringkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
