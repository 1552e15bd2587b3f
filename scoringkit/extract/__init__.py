"""The extract stage, f(x): features of reference audio and of symbolic music.

* :func:`audio_features` (:mod:`scoringkit.extract.audio`): MFCC, mel spectrogram,
  chroma, tempo and beats, key, loudness, spectral shape and onset density of a
  recording or an array of samples.
* :func:`symbolic_features` (:mod:`scoringkit.extract.symbolic`): note density,
  pitch, velocity, articulation, key, polyphony and tempo of a :class:`~scoringkit.Score`
  or a MIDI file.
* :func:`load_audio` (:mod:`scoringkit.extract.load`): a file, its bytes or an array as
  mono samples at one rate, to play or plot.

The two feature functions return a dataclass with ``.summary()`` (named statistics) and
``.vector()`` (the same numbers as a fixed-length array) for models such as the
music-emotion estimator.
Nothing heavy is imported until a function runs.

Examples
--------
>>> import scoringkit as sk
>>> from scoringkit.extract import symbolic_features
>>> score = sk.Score([sk.Track("piano", 0, [sk.Note(p, i, 1) for i, p in enumerate([60, 64, 67, 72])])])
>>> symbolic_features(score).pitch_mean
65.75
"""

from .audio import FEATURE_NAMES, AudioFeatures, audio_features, estimate_key, estimate_tempo
from .load import load_audio
from .symbolic import SYMBOLIC_FEATURE_NAMES, SymbolicFeatures, symbolic_features

__all__ = [
    "AudioFeatures",
    "audio_features",
    "load_audio",
    "SymbolicFeatures",
    "symbolic_features",
    "estimate_key",
    "estimate_tempo",
    "FEATURE_NAMES",
    "SYMBOLIC_FEATURE_NAMES",
]
