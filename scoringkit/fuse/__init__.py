"""The fuse stage: hear the music's emotion, compare it with the story's, optimise and evaluate.

* :func:`music_emotion` (:mod:`scoringkit.fuse.emotion_model`): valence and arousal of
  a score, a MIDI file or a recording, from models trained here on EMOPIA.
* :func:`emotion_match` (:mod:`scoringkit.fuse.match`): how well music expresses a
  target emotion, in [0, 1], with its parts.
* :func:`rerank` (:mod:`scoringkit.fuse.rerank`): best of N candidates by emotion match
  (``compose(..., candidates=N)`` uses it).
* :func:`quality_metrics`, :func:`compare_to_corpus` (:mod:`scoringkit.fuse.metrics`):
  music-quality metrics (pitch-class entropy, scale consistency, groove consistency, ...)
  as pure functions, and a comparison with a reference corpus.
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

from .emotion_model import MusicEmotionModel, emotion_from_probabilities, music_emotion, quadrant_probabilities
from .match import Match, emotion_match
from .metrics import (METRIC_NAMES, compare_to_corpus, comparison_markdown, empty_beat_rate, groove_consistency,
                      pitch_class_entropy, pitch_range, polyphony, quality_metrics, repetition_rate, scale_consistency,
                      self_similarity)
from .music_features import EMOTION_FEATURE_NAMES, emotion_features
from .rerank import Reranked, rerank

__all__ = ["music_emotion", "quadrant_probabilities", "emotion_from_probabilities", "MusicEmotionModel",
           "emotion_features", "EMOTION_FEATURE_NAMES", "emotion_match", "Match", "rerank", "Reranked",
           "quality_metrics", "compare_to_corpus", "comparison_markdown", "METRIC_NAMES", "pitch_class_entropy",
           "scale_consistency", "pitch_range", "polyphony", "empty_beat_rate", "groove_consistency",
           "self_similarity", "repetition_rate"]

# -- evaluation reports and listening tests (notebook 08) ------------------------------------------
from .evaluation import QUADRANT_TARGETS, metric_table, metric_table_markdown, quadrant_confusion  # noqa: E402
from .listening import (Trial, append_answers, listening_markdown, listening_trials, read_answers,  # noqa: E402
                        summarize_listening)
from .stats import binomial_p_value, fleiss_kappa, mean_interval, percent_agreement, wilson_interval  # noqa: E402

__all__ += ["quadrant_confusion", "QUADRANT_TARGETS", "metric_table", "metric_table_markdown", "listening_trials",
            "Trial", "append_answers", "read_answers", "summarize_listening", "listening_markdown",
            "wilson_interval", "mean_interval", "binomial_p_value", "fleiss_kappa", "percent_agreement"]
