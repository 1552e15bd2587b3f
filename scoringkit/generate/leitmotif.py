"""Leitmotifs: a theme for each named character or place, recurring across cues.

Wagner's device, used by every film composer since: a short theme belongs to a
character; whenever the character is on screen (here: named in the scene), the theme
comes back, changed by what the scene feels like.

* :func:`find_names` picks the names a story keeps coming back to: capitalised words
  (or screenplay speaker names) that appear in at least two scenes, are not common
  sentence starters (:data:`STOP_WORDS`), and are either capitalised mid-sentence
  somewhere or never written in lower case.
* :func:`make_leitmotif` gives each name its own theme, derived from the name alone
  (the same name always gets the same theme): five to seven notes written as scale
  degrees and beat lengths, shaped as a rising opening and a falling answer.
* :func:`realise` states the theme inside a cue, varied by the cue's intent:

  - **mode**: degrees are read in the cue's key and scale, so a major theme turns
    minor (or phrygian, lydian, ...) with the scene;
  - **tempo** follows the cue; **rhythm** is augmented (doubled note lengths) at low
    arousal and diminished (halved) at high arousal;
  - **register**: the theme sits around the cue's melody register;
  - **fragmentation**: in tense cues (tension ≥ 0.5) only the head of the theme
    appears, repeated a step lower, as if the character cannot finish the thought;
  - **orchestration**: the theme is played by the cue's melody instrument, louder
    than the surrounding melody so it stands out.

* :func:`apply_leitmotif` writes the statement into the cue's melody track at bar 0
  (and again halfway through long cues), replacing the melody there.

Examples
--------
>>> motif = make_leitmotif("Mara")
>>> motif == make_leitmotif("Mara"), len(motif.degrees) == len(motif.rhythm)
(True, True)
>>> from scoringkit.types import MusicalIntent
>>> happy = realise(motif, MusicalIntent(tempo=120, key="C major"))
>>> sad = realise(motif, MusicalIntent(tempo=60, key="C minor"))
>>> [n.pitch % 12 for n in happy][:3] != [n.pitch % 12 for n in sad][:3] or motif.degrees[:3] == [0, 0, 0]
True
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from ..errors import InputError
from ..types import Note, Score, Track

__all__ = ["Leitmotif", "find_names", "main_name", "make_leitmotif", "realise", "apply_leitmotif", "STOP_WORDS"]

#: Capitalised words that are never names (sentence starters, days, pronouns, ...).
STOP_WORDS = frozenset("""
a an the and but or nor for so yet if then when while where what who whom whose which why how
i me my we us our you your he him his she her it its they them their this that these those there here
in on at by of to from with without into onto over under after before above below up down out off
again still once never always only even just not no yes all any some every each both many much more most
one two three four five six seven eight nine ten first last next later soon now today tonight tomorrow
yesterday monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december god oh ah mr mrs ms dr sir lady lord int ext day night
cut fade continuous morning evening dawn dusk chapter part end
""".split())

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


@dataclass(frozen=True)
class Leitmotif:
    """A theme: its owner's name, scale degrees (0 = tonic, 7 = the octave) and note lengths in beats."""

    name: str
    degrees: tuple
    rhythm: tuple

    def __post_init__(self):
        if len(self.degrees) != len(self.rhythm) or not self.degrees:
            raise InputError("a leitmotif needs as many degrees as note lengths, at least one")


def find_names(scenes, *, min_scenes: int = 2, max_names: int = 4) -> list:
    """Names (characters, places) that recur across scenes, most frequent first.

    Parameters
    ----------
    scenes : list of Scene or str
        The story's scenes (from :func:`scoringkit.segment_story`) or their texts.
    min_scenes : int
        A name must appear in at least this many scenes.
    max_names : int
        Keep at most this many (each gets a theme; more would blur).

    Returns
    -------
    list of str

    Examples
    --------
    >>> find_names(["Mara climbed the tower.", "The sea rose. Mara lit the lamp.", "Then Mara slept."])
    ['Mara']
    """
    texts = [getattr(s, "text", s) for s in scenes]
    if not all(isinstance(t, str) for t in texts):
        raise InputError("find_names needs scenes or strings")
    counts, mid_sentence = {}, set()
    for text in texts:
        seen = set()
        for match in _WORD.finditer(text):
            word = match.group(0).strip("'-")
            if word.endswith(("'s", "'S")):
                word = word[:-2]
            if not word[:1].isupper() or word.lower() in STOP_WORDS or len(word) < 3:
                continue
            if word.isupper() and len(word) > 1:
                word = word.capitalize()  # screenplay speaker names (MARA) count as Mara
            before = text[:match.start()].rstrip()
            if before and before[-1] not in ".!?\"'\n:":
                mid_sentence.add(word)
            seen.add(word)
        for word in seen:
            counts[word] = counts.get(word, 0) + 1
    lower_words = {m.group(0).strip("'-") for text in texts for m in _WORD.finditer(text) if m.group(0)[:1].islower()}
    # a name: capitalised mid-sentence somewhere, or never written in lower case at all
    names = [w for w, c in counts.items() if c >= min_scenes and (w in mid_sentence or w.lower() not in lower_words)]
    names.sort(key=lambda w: (-counts[w], w))
    return names[:max_names]


def main_name(text: str, names):
    """The name in ``names`` mentioned most often in ``text``; ties go to the earlier name.

    ``names`` comes in the story's frequency order (as :func:`find_names` returns it), so
    a tie goes to the name the story uses more. Screenplay speaker names in capitals count.
    ``None`` when no name is mentioned.

    Examples
    --------
    >>> main_name("MARA\\nWhere is Tom? Tom!", ["Mara", "Tom"])
    'Tom'
    """
    best, best_count = None, 0
    for name in names:
        count = len(re.findall(rf"\b(?:{re.escape(name)}|{re.escape(name.upper())})\b", text))
        if count > best_count:
            best, best_count = name, count
    return best


def make_leitmotif(name: str) -> Leitmotif:
    """A theme for ``name``, the same every time (seeded by a hash of the name).

    The shape: an opening leap or climb up to a peak (degrees 2-5 above the start),
    then a stepwise answer that falls back to a chord tone, in 5-7 notes, with a long
    note on the peak and at the end.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError("a leitmotif needs a non-empty name")
    seed = int.from_bytes(hashlib.sha256(name.strip().lower().encode()).digest()[:8], "big")
    rng = random.Random(seed)
    start = rng.choice((0, 0, 2, 4))
    peak = start + rng.choice((2, 3, 4, 5))
    climb = [start]
    while climb[-1] < peak:
        climb.append(min(peak, climb[-1] + rng.choice((1, 2, 2, 3))))
    answer = [peak - 1]
    end = rng.choice([d for d in (0, 2, 4) if d < peak - 1] or [start])
    while answer[-1] > end + 1 and len(climb) + len(answer) < 6:
        answer.append(max(end + 1, answer[-1] - rng.choice((1, 1, 2))))
    if answer[-1] != end:
        answer.append(end)
    degrees = tuple(climb + answer)[:7]
    rhythm = [rng.choice((0.5, 1.0, 1.0)) for _ in degrees]
    rhythm[len(climb) - 1] = rng.choice((1.5, 2.0))  # hold the peak
    rhythm[-1] = 2.0  # and the end
    return Leitmotif(name.strip(), degrees, tuple(rhythm))


def _arousal(intent):
    return intent.emotion.arousal if intent.emotion is not None else (intent.tempo - 100) / 60


def realise(motif: Leitmotif, intent, *, start: float = 0.0) -> list:
    """The theme as notes for a cue with ``intent`` (see the module notes for the variations).

    Parameters
    ----------
    motif : Leitmotif
    intent : MusicalIntent
    start : float
        Beat of the first note.

    Returns
    -------
    list of Note
    """
    from .rules import SCALES

    steps = SCALES[intent.scale_name]
    arousal = _arousal(intent)
    stretch = 2.0 if arousal < -0.45 else (0.5 if arousal > 0.6 else 1.0)
    degrees, rhythm = list(motif.degrees), list(motif.rhythm)
    if intent.tension >= 0.5 and len(degrees) > 3:  # fragment: the head, then the head a step lower
        head = max(2, len(degrees) // 2)
        degrees = degrees[:head] + [d - 1 for d in degrees[:head]]
        rhythm = rhythm[:head] * 2
    # place the theme's tonic in the octave nearest the register, below it
    base = intent.register - 5
    tonic_pitch = base - ((base - intent.tonic) % 12)
    notes, t = [], start
    velocity = min(127, intent.velocity + 8)
    for degree, length in zip(degrees, rhythm):
        octave, index = divmod(degree, len(steps))
        pitch = tonic_pitch + 12 * octave + steps[index]
        length *= stretch
        notes.append(Note(int(pitch), t, length * max(0.6, intent.articulation), velocity))
        t += length
    return notes


def apply_leitmotif(score: Score, intent, motif: Leitmotif) -> Score:
    """Write the theme into the score's melody track at bar 0 and, in long cues, halfway.

    The melody notes under each statement are removed, and so are the counter-line's
    (it was written against the old melody, and the theme should stand out on its own);
    other tracks are untouched. A score without a melody track gets one, played by the
    intent's melody instrument. Returns the same (modified) score.
    """
    beats_per_bar = score.meter[0] * 4.0 / score.meter[1]
    total = score.end_beat
    melody = next((t for t in score.tracks if t.name == "melody"), None)
    if melody is None:
        melody = Track("melody", intent.instruments.get("melody", 0), [])
        score.tracks.insert(0, melody)
    starts = [0.0]
    first = realise(motif, intent)
    length = max(n.start + n.duration for n in first)
    bars_needed = -(-length // beats_per_bar)
    halfway = (total / 2) // beats_per_bar * beats_per_bar
    if total >= 4 * bars_needed * beats_per_bar and halfway >= bars_needed * beats_per_bar:
        starts.append(halfway)
    for at in starts:
        statement = realise(motif, intent, start=at)
        end = at + bars_needed * beats_per_bar
        if end > total:
            statement = [n for n in statement if n.start < total]
            for n in statement:
                n.duration = min(n.duration, total - n.start)
            end = total
        melody.notes = [n for n in melody.notes if not at <= n.start < end] + statement
        for track in score.tracks:
            if track.name == "counter":
                track.notes = [n for n in track.notes if n.end <= at or n.start >= end]
    melody.notes.sort(key=lambda n: (n.start, n.pitch))
    score.tracks = [t for t in score.tracks if t.notes or t.name != "counter"]
    return score
