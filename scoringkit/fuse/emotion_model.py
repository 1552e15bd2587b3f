"""Music -> emotion: where a score, a MIDI file or a recording sits on the valence/arousal plane.

:func:`music_emotion` puts music in the same valence/arousal space as text (see
:func:`scoringkit.analyze_text`), so a story's emotion and its music can be compared.

Two small models, both trained by this project on EMOPIA (1,078 pop-piano clips, each
labelled with one of the four quadrants; :mod:`scoringkit.fuse.train`):

* **symbolic** -- for a :class:`~scoringkit.Score` or a MIDI file: two logistic
  regressions, one for the side of the arousal axis and one for the side of the
  valence axis, over the ~160 transposition-invariant features of
  :func:`scoringkit.fuse.music_features.emotion_features` (dynamics, rhythm,
  register, chord quality and vocabulary, key-profile fits, local keys, voicing).
* **audio** -- for a recording or an array of samples: the same kind of model over
  :func:`scoringkit.extract.audio_features` summaries (MFCC, spectral shape, loudness,
  onset density, tempo, key-relative chroma), fitted on EMOPIA's MIDI rendered to
  audio by scoringkit's own renderer.

Each model gives four quadrant probabilities ``p1..p4`` (Q1 +V+A, Q2 -V+A, Q3 -V-A,
Q4 +V-A) -- the two-axis model as the products of its two sides, e.g. ``p1 = P(high
arousal) * P(positive valence)`` -- and the emotion is their expectation on the plane::

    valence = (p1 + p4) - (p2 + p3)        arousal = (p1 + p2) - (p3 + p4)

so the quadrant of the returned :class:`~scoringkit.Emotion` is the model's most
likely side of each axis, and a value near 0 means the model is unsure. The weights
are plain numbers in JSON files under ``scoringkit/assets/models`` (no pickles), with a
model card beside them (EMOPIA is licensed CC BY-NC-SA 4.0: so are these models).

Examples
--------
>>> import scoringkit as sk
>>> happy = music_emotion(sk.compose(sk.Emotion(0.8, 0.8), duration=12, seed=1))
>>> sad = music_emotion(sk.compose(sk.Emotion(-0.8, -0.8), duration=12, seed=1))
>>> happy.arousal > sad.arousal, happy.valence > sad.valence
(True, True)
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path

from ..errors import InputError, ModelError
from ..types import Emotion, Score

__all__ = ["music_emotion", "quadrant_probabilities", "emotion_from_probabilities", "MusicEmotionModel", "load_model",
           "audio_model_features", "MODEL_FILES"]

#: Shipped model files (in ``scoringkit/assets/models``) per kind.
MODEL_FILES = {"symbolic": "music_emotion_symbolic.json", "audio": "music_emotion_audio.json"}
_MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


#: How a model's linear scores become quadrant probabilities, and how many rows of weights each needs.
LINKS = {"softmax": 4, "two_axis": 2}


class MusicEmotionModel:
    """A standardise-then-linear model over named features giving 4 quadrant probabilities.

    Two links from the linear scores to the probabilities of Q1..Q4:

    * ``"softmax"`` -- one row of weights per quadrant (multinomial logistic regression).
    * ``"two_axis"`` -- two rows: the log-odds of high arousal (Q1/Q2) and of positive
      valence (Q1/Q4), each an independent logistic regression; a quadrant's
      probability is the product of its two sides, e.g. ``p2 = P(high arousal) *
      (1 - P(positive valence))``. A feature a side does not use has weight 0.

    Parameters
    ----------
    features : sequence of str
        Input feature names, in order.
    mean, scale : sequence of float
        Standardisation: ``z = (x - mean) / scale``.
    coef : nested sequence of float, 4 x n (softmax) or 2 x n (two_axis)
        Weights per quadrant (rows Q1..Q4), or for arousal then valence.
    intercept : sequence of 4 (softmax) or 2 (two_axis) float
    meta : dict, optional
        Training facts (data, command, metrics) kept for the model card.
    link : {"softmax", "two_axis"}

    Examples
    --------
    >>> m = MusicEmotionModel(["x"], [0.0], [1.0], [[1.0], [0.0], [-1.0], [0.0]], [0, 0, 0, 0])
    >>> [round(float(p), 3) for p in m.predict_proba({"x": 2.0})]
    [0.776, 0.105, 0.014, 0.105]
    >>> axes = MusicEmotionModel(["loud", "major"], [0, 0], [1, 1], [[2.0, 0.0], [0.0, 1.0]], [0, 0], link="two_axis")
    >>> [round(float(p), 3) for p in axes.predict_proba({"loud": 1.0, "major": -1.0})]
    [0.237, 0.644, 0.087, 0.032]
    """

    def __init__(self, features, mean, scale, coef, intercept, meta=None, link="softmax"):
        import numpy as np

        if link not in LINKS:
            raise ModelError(f"unknown music-emotion model link {link!r}; expected one of {sorted(LINKS)}")
        self.features = tuple(features)
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self.intercept = np.asarray(intercept, dtype=float)
        self.meta = dict(meta or {})
        self.link = link
        n, rows = len(self.features), LINKS[link]
        if (self.mean.shape != (n,) or self.scale.shape != (n,) or self.coef.shape != (rows, n)
                or self.intercept.shape != (rows,)):
            raise ModelError(f"music-emotion model shapes do not match its {n} features; retrain it")

    def predict_proba(self, values: dict):
        """Quadrant probabilities (Q1..Q4) for one ``{feature: value}`` dict."""
        import numpy as np

        missing = [name for name in self.features if name not in values]
        if missing:
            raise ModelError(f"features missing for the music-emotion model: {missing[:5]}")
        x = np.array([values[name] for name in self.features], dtype=float)
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        logits = self.coef @ ((x - self.mean) / self.scale) + self.intercept
        if self.link == "two_axis":
            arousal, valence = 0.5 * (1.0 + np.tanh(0.5 * logits))  # logistic, without overflow
            return np.array([arousal * valence, arousal * (1 - valence), (1 - arousal) * (1 - valence),
                             (1 - arousal) * valence])
        logits -= logits.max()
        p = np.exp(logits)
        return p / p.sum()

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {"link": self.link, "features": list(self.features), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "meta": self.meta}

    def save(self, path) -> Path:
        """Write the model as JSON (atomically; overwrites, as training re-creates the file)."""
        from ..io import atomic_write

        path = Path(path)
        text = json.dumps(self.to_dict(), indent=1)
        atomic_write(path, lambda f: f.write(text), overwrite=True, binary=False)
        return path

    @classmethod
    def load(cls, path) -> "MusicEmotionModel":
        """Read a model written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"no music-emotion model at {str(path)!r}; train one with "
                             "`python -m scoringkit.fuse.train`")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["features"], data["mean"], data["scale"], data["coef"], data["intercept"],
                       data.get("meta"), data.get("link", "softmax"))
        except (ValueError, KeyError, TypeError) as err:
            raise ModelError(f"{str(path)!r} is not a scoringkit music-emotion model ({err})") from None


@lru_cache(maxsize=4)
def _load_cached(kind: str, path: str | None):
    if path is not None:
        return MusicEmotionModel.load(path)
    from importlib.resources import files

    resource = files("scoringkit") / "assets" / "models" / MODEL_FILES[kind]
    return MusicEmotionModel.load(str(resource))


def load_model(kind: str = "symbolic", path=None) -> MusicEmotionModel:
    """The shipped (or a given) music-emotion model; ``kind`` is ``"symbolic"`` or ``"audio"``."""
    if kind not in MODEL_FILES:
        from ..errors import choice_error

        raise choice_error("kind", kind, MODEL_FILES)
    return _load_cached(kind, None if path is None else os.fspath(path))


def audio_model_features(features) -> dict:
    """The audio model's inputs from :class:`~scoringkit.extract.AudioFeatures`.

    The summary of :meth:`AudioFeatures.summary` with its absolute chroma replaced by
    chroma relative to the tonic of the relative major key (``chroma_deg0`` = that tonic),
    so the model does not learn keys.
    """
    import numpy as np

    from ..extract.audio import estimate_key

    summary = dict(features.summary())
    chroma = np.array([summary.pop(name) for name in list(summary) if name.startswith("chroma_mean_")])
    tonic = 0
    if chroma.sum() > 0:
        key = estimate_key(chroma / chroma.sum())
        if key:
            tonic = key["tonic"] if key["mode"] == "major" else (key["tonic"] + 3) % 12
    relative = np.roll(chroma / max(chroma.sum(), 1e-12), -tonic)
    summary.update({f"chroma_deg{k}": float(relative[k]) for k in range(12)})
    if summary.get("tempo") is None or not math.isfinite(summary.get("tempo") or 0.0):
        summary["tempo"] = 0.0
    return summary


def quadrant_probabilities(music, *, sr=None, model=None):
    """Probabilities of EMOPIA quadrants Q1..Q4 for a score, MIDI file or audio.

    Parameters
    ----------
    music : Score, str, Path, ndarray or AudioFeatures
        A :class:`~scoringkit.Score`; a MIDI file (``.mid``, ``.midi``, ``.smf``,
        ``.kar``); any other path is read as audio; an array of samples (needs ``sr``);
        or features already computed with :func:`scoringkit.extract.audio_features`.
    sr : float, optional
        Sample rate of an array.
    model : MusicEmotionModel or path, optional
        A model to use instead of the shipped one of the matching kind.

    Returns
    -------
    ndarray, shape (4,)

    Examples
    --------
    >>> import scoringkit as sk
    >>> p = quadrant_probabilities(sk.compose(sk.Emotion(-0.7, 0.8), duration=10, seed=3))
    >>> round(float(p.sum()), 6), int(p.argmax()) + 1
    (1.0, 2)
    """
    kind, values = _features_of(music, sr)
    if model is None:
        model = load_model(kind)
    elif not isinstance(model, MusicEmotionModel):
        model = MusicEmotionModel.load(model)
    return model.predict_proba(values)


def music_emotion(music, *, sr=None, model=None) -> Emotion:
    """Estimate the emotion a piece of music expresses, as valence and arousal.

    Parameters
    ----------
    music : Score, str, Path, ndarray or AudioFeatures
        What to listen to (see :func:`quadrant_probabilities`): symbolic input goes to
        the symbolic model, audio to the audio model.
    sr : float, optional
        Sample rate of an array of samples.
    model : MusicEmotionModel or path, optional
        A model to use instead of the shipped one.

    Returns
    -------
    Emotion
        ``valence = p1 + p4 - p2 - p3``, ``arousal = p1 + p2 - p3 - p4`` from the quadrant
        probabilities; ``source`` is ``"music:symbolic"`` or ``"music:audio"``.

    Raises
    ------
    InputError
        Unreadable input, a score without pitched notes, silent audio (it expresses
        nothing: there is no emotion to estimate), an array without ``sr``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> e = music_emotion(sk.compose(sk.Emotion(0.6, -0.7), duration=12, seed=0))
    >>> e.quadrant, e.source
    (4, 'music:symbolic')
    """
    kind, _ = _classify(music)
    return emotion_from_probabilities(quadrant_probabilities(music, sr=sr, model=model), source=f"music:{kind}")


def emotion_from_probabilities(p, *, source: str = "") -> Emotion:
    """The point on the valence/arousal plane that quadrant probabilities ``p1..p4`` stand for.

    ``valence = p1 + p4 - p2 - p3`` and ``arousal = p1 + p2 - p3 - p4`` (the expectation
    of the quadrant corners ``(±1, ±1)``), as :func:`music_emotion` reports them.

    Examples
    --------
    >>> e = emotion_from_probabilities([0.1, 0.0, 0.2, 0.7])
    >>> round(e.valence, 2), round(e.arousal, 2), e.quadrant
    (0.6, -0.8, 4)
    """
    p = [float(v) for v in p]
    if len(p) != 4:
        raise InputError(f"quadrant probabilities come as 4 numbers (Q1..Q4), got {len(p)}")
    valence = p[0] + p[3] - p[1] - p[2]
    arousal = p[0] + p[1] - p[2] - p[3]
    clip = lambda v: max(-1.0, min(1.0, v))  # noqa: E731 - rounding can step past 1 by 1e-16
    return Emotion(clip(valence), clip(arousal), source=source)


def _classify(music):
    from ..extract.audio import AudioFeatures
    from ..extract.symbolic import SymbolicFeatures

    if isinstance(music, Score):
        return "symbolic", music
    if isinstance(music, AudioFeatures):
        return "audio", music
    if isinstance(music, SymbolicFeatures):
        raise InputError("music_emotion needs the score itself (or the MIDI file), not SymbolicFeatures: "
                         "the model also reads harmony, which the summary leaves out")
    if isinstance(music, (str, os.PathLike)):
        path = Path(music)
        if not path.exists():
            raise InputError(f"no such file: {str(path)!r}")
        return ("symbolic" if path.suffix.lower() in _MIDI_SUFFIXES else "audio"), path
    if hasattr(music, "__array__") or isinstance(music, (list, tuple)):
        return "audio", music
    raise InputError(f"music_emotion takes a Score, a MIDI or audio file path, an array of samples (with sr=) "
                     f"or AudioFeatures, not {type(music).__name__}")


def _features_of(music, sr):
    from ..extract.audio import AudioFeatures, audio_features
    from .music_features import emotion_features

    kind, obj = _classify(music)
    if kind == "symbolic":
        if sr is not None:
            raise InputError("sr= is only for arrays of audio samples, not for a score or MIDI file")
        return kind, emotion_features(obj)
    features = obj if isinstance(obj, AudioFeatures) else audio_features(obj, sr=sr, frames=False)
    if features.rms_dbfs is None or not math.isfinite(features.rms_dbfs) or features.rms_dbfs < -90:
        raise InputError("the audio is silent, so it expresses no emotion to estimate; give it a recording "
                         "with sound in it")
    return kind, audio_model_features(features)
