"""The fuse stage: hear the music's emotion and compare it with the story's.

* :func:`music_emotion` (:mod:`scoringkit.fuse.emotion_model`): valence and arousal of
  a score, a MIDI file or a recording, from models trained here on EMOPIA.
* :func:`emotion_features` (:mod:`scoringkit.fuse.music_features`): the symbolic
  model's inputs.
* :mod:`scoringkit.fuse.train`: the training recipe (``python -m scoringkit.fuse.train``).

Nothing heavy is imported until a function runs.

Examples
--------
>>> import scoringkit as sk
>>> sk.music_emotion(sk.compose(sk.Emotion(0.8, 0.8), duration=10)).quadrant
1
"""

from .emotion_model import MusicEmotionModel, music_emotion, quadrant_probabilities
from .music_features import EMOTION_FEATURE_NAMES, emotion_features

__all__ = ["music_emotion", "quadrant_probabilities", "MusicEmotionModel", "emotion_features",
           "EMOTION_FEATURE_NAMES"]
