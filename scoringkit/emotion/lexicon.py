"""Lexicon emotion backend: VADER valence plus NRC emotion words, no torch needed.

How it reads a text
-------------------
* **Valence** is VADER's compound score (Hutto & Gilbert, ICWSM 2014), which already
  handles negation ("not happy"), intensifiers ("very") and punctuation, mixed
  with the balance of positive/negative NRC words.
* **Categories** count words of the NRC Emotion Lexicon (Mohammad & Turney, 2013)
  for anger, disgust, fear, joy, sadness and surprise; a word preceded by a negation
  within three words is not counted. With few emotion words the text is mostly
  ``neutral``.
* **Arousal** has no lexicon of its own in these packages, so it is estimated from
  what the text holds: the arousal typical of each category found (anger, fear and
  surprise are high; sadness is low, following Russell's circumplex, 1980), a short
  hand-written list of calm and agitated words, exclamation marks and capitals, and
  how intense VADER finds the text.

It is fast (thousands of sentences per second), transparent, and weaker than the
trained encoder backend: treat it as the baseline.

Examples
--------
>>> from scoringkit.emotion.lexicon import analyze_lexicon
>>> e = analyze_lexicon("She wept at the grave, alone and grieving.")
>>> e.valence < 0, e.arousal < 0, e.label
(True, True, 'sadness')
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

from ..types import EMOTION_LABELS, Emotion

__all__ = ["analyze_lexicon", "CATEGORY_AROUSAL", "CALM_WORDS", "AGITATED_WORDS"]

#: Typical arousal of each category on [-1, 1] (circumplex placement, Russell 1980).
CATEGORY_AROUSAL = {
    "anger": 0.8,
    "fear": 0.7,
    "surprise": 0.7,
    "joy": 0.45,
    "disgust": 0.3,
    "anticipation": 0.35,
    "sadness": -0.6,
    "trust": -0.25,
}

#: Words that signal low arousal (stillness, rest, softness). Written for scoringkit.
CALM_WORDS = frozenset(
    """calm quiet quietly still stillness gentle gently soft softly slow slowly peaceful peace
    serene rest resting asleep sleep sleeping sleepy drowsy tired weary silence silent hush
    hushed tranquil lull lullaby drift drifted drifting murmur whisper whispered warm cosy cozy
    tender tenderly lazy idle breeze mild faint fading dim dusk evening linger lingered
    lingering settle settled sigh sighed relax relaxed relief content""".split()
)

#: Words that signal high arousal (speed, noise, force). Written for scoringkit.
AGITATED_WORDS = frozenset(
    """run ran running race raced racing rush rushed chase chased sprint sprinted scream screamed
    screaming shout shouted yell yelled crash crashed explode exploded explosion burst sudden
    suddenly fast faster hurry hurried pound pounding racing slam slammed shatter shattered
    storm thunder roar roared fire flames frantic frantically panic panicked wild fierce
    fight fought attack attacked alarm siren danger dance danced dancing leap leaped leapt jump
    jumped cheer cheered cheering thrill thrilled thrilling ecstatic furious rage heartbeat
    hammering trembling tremble shook shaking gasp gasped""".split()
)

_NEGATIONS = frozenset("not no never nothing nobody none neither nor without cannot isn't wasn't don't didn't won't can't couldn't".split())
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_SUFFIXES = ("iness", "ness", "ing", "ed", "es", "s", "ly", "d", "y")
_IRREGULAR = {"wept": "weep", "slept": "sleep", "fought": "fight", "bled": "bleed", "fled": "flee",
              "ran": "run", "shook": "shake", "felt": "feel", "died": "die", "lied": "lie", "tears": "tear"}


@lru_cache(maxsize=1)
def _nrc() -> dict:
    from importlib.resources import files

    return json.loads((files("nrclex") / "data" / "nrc_en.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _lookup(word: str, lexicon: dict):
    word = _IRREGULAR.get(word, word)
    if word in lexicon:
        return lexicon[word]
    for suffix in _SUFFIXES:  # a light stemmer: "screamed" -> "scream", "cried" -> "cry"
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            stem = word[: -len(suffix)]
            respelled = stem[:-1] + "y" if suffix in ("ed", "es") and stem.endswith("i") else None
            for candidate in (stem, stem + "e", respelled, stem[:-1] if stem[-1:] == stem[-2:-1] else None):
                if candidate and candidate in lexicon:
                    return lexicon[candidate]
    return None


def analyze_lexicon(text: str) -> Emotion:
    """Estimate the emotion of one text with VADER and the NRC Emotion Lexicon.

    Parameters
    ----------
    text : str
        Any English text (a sentence to a few paragraphs). Validation of emptiness and
        size happens in :func:`scoringkit.analyze_text`.

    Returns
    -------
    Emotion
        With ``probs`` over :data:`~scoringkit.types.EMOTION_LABELS` and ``source="lexicon"``.

    Examples
    --------
    >>> analyze_lexicon("We laughed and danced all night, so happy!").quadrant
    1
    """
    lexicon = _nrc()
    words = [w.lower() for w in _WORD.findall(text)]
    counts = dict.fromkeys(list(CATEGORY_AROUSAL) + ["positive", "negative"], 0.0)
    calm = agitated = 0
    for i, word in enumerate(words):
        negated = any(w in _NEGATIONS or w.endswith("n't") for w in words[max(0, i - 3): i])
        if word in CALM_WORDS:
            calm += 1
        elif word in AGITATED_WORDS and not negated:
            agitated += 1
        categories = _lookup(word, lexicon)
        if not categories or negated:
            continue
        for category in categories:
            if category in counts:
                counts[category] += 1.0

    compound = _vader().polarity_scores(text)["compound"]
    polar = counts["positive"] + counts["negative"]
    balance = (counts["positive"] - counts["negative"]) / polar if polar else 0.0
    valence = 0.8 * compound + 0.2 * balance

    n_words = max(len(words), 1)
    found = {c: counts[c] for c in CATEGORY_AROUSAL if counts[c]}
    category_arousal = sum(CATEGORY_AROUSAL[c] * k for c, k in found.items()) / sum(found.values()) if found else 0.0
    emotional_share = min(1.0, sum(found.values()) / n_words * 4)  # how much of the text carries emotion
    cue_words = (agitated - calm) / math.sqrt(agitated + calm) if agitated + calm else 0.0
    exclaims = min(text.count("!"), 5) * 0.08
    shouting = 0.15 if any(len(w) > 2 and w.isupper() for w in _WORD.findall(text)) else 0.0
    arousal = (
        -0.15  # plain narration reads as slightly calm
        + 0.6 * category_arousal * emotional_share
        + 0.35 * math.tanh(cue_words)
        + 0.15 * abs(compound)
        + exclaims
        + shouting
    )

    # Word counts are weighed by VADER's verdict, which reads negation and context the counts
    # miss: in a clearly negative text "found" or "dawn" say little about joy, and vice versa.
    agree_positive, agree_negative = 1.0 + compound, 1.0 - compound
    probs = {
        "anger": counts["anger"] * agree_negative,
        "disgust": counts["disgust"] * agree_negative,
        "fear": counts["fear"] * agree_negative,
        "joy": counts["joy"] * agree_positive + max(compound - 0.3, 0.0) * 2,
        "sadness": counts["sadness"] * agree_negative + max(-compound - 0.3, 0.0) * 2,
        "surprise": counts["surprise"],
    }
    probs["neutral"] = 1.0 + 0.1 * n_words / (1.0 + sum(probs.values()))
    return Emotion(_clip(valence), _clip(arousal), probs=probs, source="lexicon")


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))
