"""A rule-based composer: music theory written out as code, seeded and deterministic.

What it writes for a :class:`~scoringkit.types.MusicalIntent`:

1. **Form** — four-bar phrases, paired as antecedent (ends open) and consequent
   (ends on the tonic); the last bar of the cue is a cadence.
2. **Harmony** — one chord per bar from a progression family chosen by the intent
   (:data:`PROGRESSIONS`): bright and pastoral ones in major, tense and lament ones in
   minor, where V is major (the raised leading tone of harmonic minor).
3. **Melody** — a one-bar rhythm motif sized by the intent's density and a contour
   motif (steps up and down the scale) that recurs bar after bar on new chords
   (a sequence) and comes back inverted in later phrases; strong beats land on
   chord tones; it moves around the intent's register.
4. **Counter-line** — a second, softer voice under the melody (role ``counter``),
   entering with the second phrase: chord tones in half notes (quarters when the
   music is busy), thirds before roots before fifths, moving against the melody's
   direction (contrary motion) and never in parallel fifths or octaves with it.
5. **Bass** — chord roots, from whole notes (calm) to pulsing eighths (excited).
6. **Accompaniment** — broken chords at low energy, block chords at high energy.
7. **Pad** — a soft sustained chord per bar underneath (with a semitone cluster
   when ``tension`` is high).
8. **Colour** — the intent's modal scale (:data:`SCALES`) for the melody, and its
   characteristic chord (:data:`MODAL_CHORDS`); with ``tension``, diminished and
   augmented chords and chromatic neighbour notes.
9. **Drums** — with ``percussion`` ≥ 0.2: a ride or hi-hat pulse, kick and backbeat
   snare, syncopated kicks with ``syncopation``, fills at phrase ends.
10. **Dynamics** — velocities follow the intent's curve (:data:`DYNAMIC_SHAPES`),
   e.g. a crescendo toward the end.

Examples
--------
>>> from scoringkit.types import MusicalIntent
>>> score = compose_rules(MusicalIntent(tempo=120, key="A minor"), duration=8.0, seed=1)
>>> [t.name for t in score.tracks]
['melody', 'accompaniment', 'pad', 'bass']
>>> score.end_beat
16.0
"""

from __future__ import annotations

import random

from ..types import MusicalIntent, Note, Score, Track

__all__ = ["compose_rules", "PROGRESSIONS", "CHORDS", "chord_pitch_classes", "bars_for_duration"]

#: Scale steps (semitones above the tonic) per mode and modal colour.
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
    "ionian": (0, 2, 4, 5, 7, 9, 11), "lydian": (0, 2, 4, 6, 7, 9, 11), "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10), "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}

#: The chord that gives each modal colour its sound, and the chords it replaces
#: (away from cadences): lydian's major II, mixolydian's bVII, dorian's major IV,
#: phrygian's bII.
MODAL_CHORDS = {
    "lydian": ("II", ("ii", "IV")),
    "mixolydian": ("VII", ("iii", "V")),
    "dorian": ("IV", ("iv", "VI")),
    "phrygian": ("bII", ("iv", "ii°", "VI")),
}
#: Tense substitutes: chords that replace others when ``tension`` is high.
TENSION_CHORDS = {"major": ("vii°", "III+"), "minor": ("ii°", "vii°", "III+")}

#: Roman numeral → (root in semitones above the tonic, chord quality).
CHORDS = {
    "I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"), "V": (7, "maj"),
    "vi": (9, "min"), "vii°": (11, "dim"),
    "i": (0, "min"), "ii°": (2, "dim"), "bII": (1, "maj"), "III": (3, "maj"), "iv": (5, "min"),
    "VI": (8, "maj"), "VII": (10, "maj"), "II": (2, "maj"), "III+": (3, "aug"),
}
QUALITIES = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8)}

#: Four-chord progressions per harmony family; phrases draw from these.
PROGRESSIONS = {
    "plain": [["I", "IV", "V", "I"], ["i", "iv", "V", "i"]],  # one per mode
    "bright": [["I", "V", "vi", "IV"], ["I", "IV", "V", "I"], ["I", "vi", "ii", "V"], ["IV", "V", "iii", "vi"]],
    "pastoral": [["I", "IV", "I", "V"], ["I", "vi", "IV", "I"], ["IV", "I", "ii", "V"], ["I", "iii", "IV", "I"]],
    "tense": [["i", "VI", "iv", "V"], ["i", "ii°", "V", "i"], ["i", "iv", "vii°", "V"], ["i", "bII", "V", "i"]],
    "lament": [["i", "VII", "VI", "V"], ["i", "iv", "VI", "V"], ["i", "VI", "III", "VII"], ["iv", "i", "V", "i"]],
}

#: One-bar rhythm motifs (beats, for 4/4) grouped by notes per beat.
RHYTHMS = {
    0.5: [[2, 2], [3, 1], [2, 1, 1]],
    1.0: [[1, 1, 1, 1], [1.5, 0.5, 1, 1], [2, 1, 1], [1, 1, 2]],
    1.5: [[1, 0.5, 0.5, 1, 1], [0.5, 0.5, 1, 0.5, 0.5, 1], [1.5, 0.5, 0.5, 0.5, 1]],
    2.0: [[0.5] * 8, [0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5, 0.5, 1, 0.5, 0.5]],
}
CADENCE_RHYTHMS = [[2, 2], [3, 1], [4]]
#: Syncopated one-bar rhythms (accents between the beats), used with ``syncopation``.
SYNCOPATED = {
    0.5: [[1.5, 2.5], [2.5, 1.5]],
    1.0: [[1.5, 1.5, 1], [0.5, 1, 0.5, 2], [1, 1.5, 1.5]],
    1.5: [[0.5, 1, 0.5, 1, 1], [1.5, 0.5, 1, 0.5, 0.5], [0.5, 1, 1, 0.5, 1]],
    2.0: [[0.5, 0.5, 0.5, 1, 0.5, 0.5, 0.5], [0.75, 0.75, 0.5, 0.5, 0.75, 0.75], [0.5, 1, 0.5, 0.5, 1, 0.5]],
}
#: Velocity multiplier at the start, two thirds and end of a cue for each dynamics curve.
DYNAMIC_SHAPES = {"steady": (1.0, 1.0, 1.0), "crescendo": (0.78, 0.95, 1.12), "decrescendo": (1.1, 0.92, 0.75),
                  "arch": (0.85, 1.12, 0.88)}
#: General MIDI drum keys used by the percussion part.
KICK, SNARE, CLOSED_HAT, RIDE, CRASH, LOW_TOM = 36, 38, 42, 51, 49, 45


def bars_for_duration(duration: float, tempo: float, beats_per_bar: float = 4.0) -> int:
    """Number of whole bars closest to ``duration`` seconds at ``tempo`` (at least 1).

    Examples
    --------
    >>> bars_for_duration(20.0, 120.0)
    10
    """
    return max(1, round(duration * tempo / 60.0 / beats_per_bar))


def chord_pitch_classes(numeral: str, tonic: int) -> tuple[int, ...]:
    """Pitch classes of a chord given as a Roman numeral in a key (root first).

    Examples
    --------
    >>> chord_pitch_classes("V", 9)   # E major in A minor: E, G#, B
    (4, 8, 11)
    """
    root, quality = CHORDS[numeral]
    return tuple((tonic + root + step) % 12 for step in QUALITIES[quality])


def _chord_scale(scale_pcs, chord_pcs):
    """The scale with any chord tone it lacks swapped in for its neighbour (e.g. a raised 7th over V)."""
    scale = list(scale_pcs)
    for pc in chord_pcs:
        if pc not in scale:
            nearest = min(range(len(scale)), key=lambda i: min((scale[i] - pc) % 12, (pc - scale[i]) % 12))
            scale[nearest] = pc
    return sorted(set(scale))


def _pitches_in_range(pcs, low, high):
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def _nearest(candidates, target):
    return min(candidates, key=lambda p: (abs(p - target), p))


def _plan_harmony(n_bars, harmony, rng, tonic_numeral):
    family = PROGRESSIONS.get(harmony, PROGRESSIONS["plain"])
    minor = tonic_numeral == "i"
    family = [p for p in family if (p[0][0].islower() or p[0] in ("VI", "VII", "III")) == minor] or family
    first, second = rng.choice(family), rng.choice(family)
    chords = []
    for phrase_start in range(0, n_bars, 4):
        phrase_index = phrase_start // 4
        progression = list(first if phrase_index % 2 == 0 else second)
        if phrase_index % 2 == 1:
            progression[-1] = tonic_numeral  # consequent phrase closes on the tonic
        chords.extend(progression)
    chords = chords[:n_bars]
    if n_bars >= 2:
        chords[-2] = "V"
    chords[-1] = tonic_numeral  # authentic cadence at the end of the cue
    return chords


def _colour_harmony(numerals, scale_name, tension, rng):
    """Swap in the mode's characteristic chord and, with tension, diminished/augmented chords.

    Cadences (the last two bars and each phrase's last bar) are left alone, so phrases
    still close clearly.
    """
    out = list(numerals)
    protected = {len(out) - 1, len(out) - 2} | {i for i in range(len(out)) if i % 4 == 3}
    modal = MODAL_CHORDS.get(scale_name)
    minor = SCALES[scale_name][2] == 3
    for i, numeral in enumerate(out):
        if i in protected:
            continue
        if modal and numeral in modal[1]:
            out[i] = modal[0]
        elif tension > 0.35 and numeral not in ("I", "i") and rng.random() < tension * 0.6:
            out[i] = rng.choice(TENSION_CHORDS["minor" if minor else "major"])
    return out


def compose_rules(intent: MusicalIntent, *, duration: float = 20.0, seed: int = 0) -> Score:
    """Compose a cue for ``intent`` lasting ``duration`` seconds (rounded to whole bars).

    Parameters
    ----------
    intent : MusicalIntent
        Tempo, key/mode, register, loudness, density, articulation, instruments, harmony.
    duration : float
        Target length in seconds; the result is within half a bar of it.
    seed : int
        Same seed and intent → same notes.

    Returns
    -------
    Score
        Tracks ``melody``, ``accompaniment``, ``pad`` and ``bass`` (those the intent
        names an instrument for), in the intent's tempo, key and meter.

    Examples
    --------
    >>> a = compose_rules(MusicalIntent(tempo=90, key="F major"), duration=10, seed=3)
    >>> b = compose_rules(MusicalIntent(tempo=90, key="F major"), duration=10, seed=3)
    >>> [(n.pitch, n.start) for n in a.tracks[0].notes] == [(n.pitch, n.start) for n in b.tracks[0].notes]
    True
    """
    rng = random.Random(seed)
    beats_per_bar = intent.meter[0] * 4.0 / intent.meter[1]
    n_bars = bars_for_duration(duration, intent.tempo, beats_per_bar)
    tonic, mode = intent.tonic, intent.mode
    scale_name = intent.scale_name
    scale = [(tonic + step) % 12 for step in SCALES[scale_name]]
    tonic_numeral = "I" if mode == "major" else "i"
    if intent.harmonic_rhythm == 0.5:  # each planned chord held for two bars
        numerals = [n for n in _plan_harmony((n_bars + 1) // 2, intent.harmony, rng, tonic_numeral) for _ in (0, 1)]
        numerals = numerals[:n_bars]
        numerals[-1] = tonic_numeral
        if n_bars >= 3:
            numerals[-2] = "V"
            if numerals[-3] == "V":  # the doubled plan ended V V: make the bar before a pre-dominant
                numerals[-3] = "iv" if mode == "minor" else "IV"
    else:
        numerals = _plan_harmony(n_bars, intent.harmony, rng, tonic_numeral)
    numerals = _colour_harmony(numerals, scale_name, intent.tension, rng)
    chords = [chord_pitch_classes(n, tonic) for n in numerals]

    melody = _melody(intent, chords, scale, beats_per_bar, rng)
    tracks = []
    roles = intent.instruments
    if "melody" in roles:
        tracks.append(Track("melody", roles["melody"], melody))
    if "counter" in roles:
        counter = _counter(intent, chords, melody, beats_per_bar)
        if counter:
            tracks.append(Track("counter", roles["counter"], counter))
    if "accompaniment" in roles:
        tracks.append(Track("accompaniment", roles["accompaniment"], _accompaniment(intent, chords, beats_per_bar)))
    if "pad" in roles:
        tracks.append(Track("pad", roles["pad"], _pad(intent, chords, beats_per_bar)))
    if "bass" in roles:
        tracks.append(Track("bass", roles["bass"], _bass(intent, chords, beats_per_bar)))
    if intent.percussion >= 0.2:
        tracks.append(Track("drums", 0, _drums(intent, n_bars, beats_per_bar, rng), is_drum=True))
    _shape_dynamics(tracks, intent.dynamics, n_bars * beats_per_bar)
    return Score(tracks, tempo=intent.tempo, key=intent.key, meter=intent.meter, reverb=intent.reverb)


def _shape_dynamics(tracks, curve, total_beats):
    """Scale velocities along the cue by the curve in :data:`DYNAMIC_SHAPES` (piecewise linear)."""
    start, peak, end = DYNAMIC_SHAPES[curve]
    if start == peak == end:
        return
    turn = total_beats * 2 / 3
    for track in tracks:
        for note in track.notes:
            t = note.start
            factor = start + (peak - start) * t / turn if t < turn else peak + (end - peak) * (t - turn) / (total_beats - turn)
            note.velocity = max(1, min(127, int(round(note.velocity * factor))))


def _drums(intent, n_bars, beats_per_bar, rng):
    """A kit part: ride/hat pulse, kick and snare backbeat, fills at phrase ends; busier with percussion."""
    level, sync = intent.percussion, intent.syncopation
    base = max(30, min(120, int(intent.velocity * (0.55 + 0.4 * level))))
    notes = []
    beats = int(beats_per_bar)
    for bar in range(n_bars):
        start = bar * beats_per_bar
        last = bar == n_bars - 1
        if bar % 8 == 0 and level >= 0.5:
            notes.append(Note(CRASH, start, 1.0, base + 8))
        cymbal = CLOSED_HAT if level >= 0.4 else RIDE
        step = 0.5 if level >= 0.45 else 1.0
        for k in range(int(beats_per_bar / step)):
            accent = 8 if (k * step) % 1 == 0 else 0
            notes.append(Note(cymbal, start + k * step, step * 0.9, base - 18 + accent))
        if last:
            notes.append(Note(KICK, start, 1.0, base + 6))
            if level >= 0.5:
                notes.append(Note(CRASH, start, 1.0, base + 6))
            continue
        kicks = [0.0] + ([beats_per_bar / 2] if beats >= 4 else [])
        if sync > 0.3 and rng.random() < sync:
            kicks.append(1.5 if beats >= 3 else 0.5)
        if level >= 0.7:
            kicks.append(2.5 if beats >= 4 else 1.5)
        notes += [Note(KICK, start + b, 0.5, base + 4) for b in sorted(set(kicks)) if b < beats_per_bar]
        if level >= 0.35 and beats >= 2:
            backbeats = range(1, beats, 2) if beats % 2 == 0 else [beats - 1]
            notes += [Note(SNARE, start + b, 0.5, base) for b in backbeats]
        if level >= 0.6 and bar % 4 == 3:  # fill into the next phrase
            notes += [Note(LOW_TOM if i % 2 else SNARE, start + beats_per_bar - 1 + i * 0.25, 0.25, base - 6 + 3 * i)
                      for i in range(4)]
    return notes


def _rhythm_bank(density):
    level = min(RHYTHMS, key=lambda d: abs(d - density))
    return RHYTHMS[level]


def _fit_rhythm(pattern, beats_per_bar):
    """Stretch or trim a 4-beat pattern to the bar length."""
    out, total = [], 0.0
    for length in pattern:
        if total + length > beats_per_bar:
            break
        out.append(length)
        total += length
    if total < beats_per_bar:
        if out:
            out[-1] += beats_per_bar - total
        else:
            out = [beats_per_bar]
    return out


def _melody(intent, chords, scale, beats_per_bar, rng):
    bank = _rhythm_bank(intent.density)
    if intent.syncopation > 0 and rng.random() < intent.syncopation:
        level = min(SYNCOPATED, key=lambda d: abs(d - intent.density))
        bank = SYNCOPATED[level]
    motif_a = _fit_rhythm(rng.choice(bank), beats_per_bar)
    motif_b = _fit_rhythm(rng.choice(bank), beats_per_bar)
    contour = [rng.choice((-2, -1, -1, 1, 1, 2)) for _ in range(12)]
    low, high = intent.register - 9, intent.register + 9
    notes = []
    previous = intent.register
    n_bars = len(chords)
    for bar, chord in enumerate(chords):
        bar_start = bar * beats_per_bar
        position = bar % 4
        is_last = bar == n_bars - 1
        phrase_end = position == 3 or is_last
        rhythm = _fit_rhythm(rng.choice(CADENCE_RHYTHMS), beats_per_bar) if phrase_end else (motif_b if position == 2 else motif_a)
        steps = contour if (bar // 4) % 2 == 0 else [-s for s in contour]  # inversion in alternate phrases
        bar_scale = set(_chord_scale(scale, chord))
        scale_pitches = _pitches_in_range(bar_scale, low - 2, high + 2)
        chord_pitches = _pitches_in_range(set(chord), low, high)
        onset = 0.0
        for i, length in enumerate(rhythm):
            strong = onset == 0 or onset == beats_per_bar / 2
            if i == 0:
                pitch = _nearest(chord_pitches, previous)
            else:
                index = _nearest_index(scale_pitches, previous) + steps[i % len(steps)]
                if not 0 <= index < len(scale_pitches):
                    index = _nearest_index(scale_pitches, previous) - steps[i % len(steps)]
                pitch = scale_pitches[min(max(index, 0), len(scale_pitches) - 1)]
                if strong:
                    pitch = _nearest(chord_pitches, pitch)
            if phrase_end and i == len(rhythm) - 1:
                goal = {chord[0]} if is_last or (bar // 4) % 2 == 1 else set(chord[1:])
                pitch = _nearest(_pitches_in_range(goal, low, high), previous)
            accent = 6 if onset == 0 else (2 if strong else 0)
            arc = 6 if position in (1, 2) else (-4 if phrase_end else 0)
            velocity = intent.velocity + accent + arc + rng.randint(-3, 3)
            if (intent.tension > 0.45 and not strong and length >= 0.5 and not phrase_end
                    and rng.random() < intent.tension * 0.5):
                # a chromatic lower neighbour leaning into the note: the sound of unease
                lean = min(0.25, length / 2)
                notes.append(Note(pitch - 1, bar_start + onset, lean * 0.95, velocity - 4))
                notes.append(Note(pitch, bar_start + onset + lean, (length - lean) * intent.articulation, velocity))
            else:
                notes.append(Note(pitch, bar_start + onset, length * intent.articulation, velocity))
            previous = pitch
            onset += length
    return notes


#: Preference among chord tones for the counter-line: the third colours the chord
#: without doubling the bass, the root is next, the fifth (hollow) last.
COUNTER_TONE_COST = (0.8, 0.0, 1.6)  # root, third, fifth


def _sounding(notes, beat):
    """Pitch of the last note that starts at or before ``beat`` (the melody heard then)."""
    pitch = None
    for note in notes:
        if note.start > beat + 1e-9:
            break
        pitch = note.pitch
    return pitch


def _counter_cost(p, chord, previous, above, previous_melody):
    """Cost of counter-line pitch ``p`` under melody pitch ``above`` (lower is better).

    Tone preference (:data:`COUNTER_TONE_COST`), a quarter point per semitone of leap
    and 3 more beyond a fifth, 1.6 for repeating the last pitch, 1.5 for moving the
    same way as the melody (0.5 off for contrary motion), 6 for parallel fifths or
    octaves with the melody.
    """
    value = COUNTER_TONE_COST[min(chord.index(p % 12), 2)]
    if previous is None:
        return value
    leap = abs(p - previous)
    value += leap / 4.0 + (3.0 if leap > 7 else 0.0) + (1.6 if leap == 0 else 0.0)
    if above is not None and previous_melody is not None:
        melody_move, own_move = above - previous_melody, p - previous
        if melody_move * own_move > 0:
            value += 1.5
        elif melody_move * own_move < 0:
            value -= 0.5
        if _parallel_perfect(previous, p, previous_melody, above):
            value += 6.0
    return value


def _parallel_perfect(low_before, low_after, high_before, high_after) -> bool:
    """True if two voices that both move keep a perfect fifth or octave between them."""
    interval = (high_before - low_before) % 12
    return (low_after != low_before and high_after != high_before and interval in (0, 7)
            and (high_after - low_after) % 12 == interval)


def _counter(intent, chords, melody, beats_per_bar):
    """A counter-line under the melody: from the second phrase on in cues of 8 bars or
    more, from bar 3 in shorter ones (a 1-2 bar cue has none).

    Each note is the chord tone at least a minor third below the melody note sounding
    then with the lowest :func:`_counter_cost` (parallel fifths and octaves with the
    melody are left out whenever another chord tone fits); a pitch repeated within a bar is tied
    over; phrase ends and the last bar hold one note (the final one the tonic chord's
    third or root).
    """
    n_bars = len(chords)
    melody = sorted(melody, key=lambda n: n.start)
    first_bar = 4 if n_bars >= 8 else 2
    step = 2.0 if intent.density < 1.3 else 1.0
    if beats_per_bar % step:
        step = beats_per_bar  # e.g. 3/4 at low density: one dotted half per bar
    centre = intent.register - 9
    low, high = max(43, centre - 7), centre + 6
    velocity = max(20, intent.velocity - 12)
    notes, previous, previous_melody, onset_melody = [], None, None, None
    for bar in range(first_bar, n_bars):
        chord = chords[bar]
        last = bar == n_bars - 1
        onsets = [0.0] if last or bar % 4 == 3 else [i * step for i in range(int(beats_per_bar // step))]
        for k, onset in enumerate(onsets):
            beat = bar * beats_per_bar + onset
            length = beats_per_bar - onset if k == len(onsets) - 1 else step
            above = _sounding(melody, beat)
            ceiling = min(high, (above if above is not None else high + 3) - 3)
            options = _pitches_in_range(set(chord), low, ceiling)
            if not options:
                continue
            if last:
                options = [p for p in options if p % 12 in chord[:2]] or options
            if previous is not None and above is not None:
                # judged against the melody where the held counter note began and where it was last heard
                heard = {m for m in (onset_melody, previous_melody) if m is not None}
                options = [p for p in options
                           if not any(_parallel_perfect(previous, p, m, above) for m in heard)] or options
            pitch = min(options, key=lambda p: (_counter_cost(p, chord, previous, above, previous_melody), p))
            held = notes and pitch == previous and k > 0  # same pitch, same chord: tie it over
            if held:
                notes[-1].duration = beat + length * max(0.85, intent.articulation) - notes[-1].start
            else:
                notes.append(Note(pitch, beat, length * max(0.85, intent.articulation), velocity))
                onset_melody = above
            previous, previous_melody = pitch, above
    return notes


def _nearest_index(pitches, target):
    return min(range(len(pitches)), key=lambda i: (abs(pitches[i] - target), pitches[i]))


def _voicing(chord, low, high):
    """Close-position chord: each chord tone once, as low as possible above ``low``."""
    pitches = []
    for pc in chord:
        candidates = _pitches_in_range({pc}, low, high)
        if candidates:
            pitches.append(candidates[0])
    return sorted(pitches)


def _accompaniment(intent, chords, beats_per_bar):
    notes = []
    low = max(40, intent.register - 19)
    velocity = intent.velocity - 14
    density = intent.density
    for bar, chord in enumerate(chords):
        start = bar * beats_per_bar
        voicing = _voicing(chord, low, low + 14)
        last = bar == len(chords) - 1
        if last:
            notes += [Note(p, start, beats_per_bar, velocity) for p in voicing]
        elif density < 0.8:  # slow broken chord, each note ringing on
            pattern = (voicing + [voicing[0] + 12])[: int(beats_per_bar)]
            notes += [Note(p, start + i, beats_per_bar - i, velocity - (0 if i == 0 else 4)) for i, p in enumerate(pattern)]
        elif density < 1.3:  # flowing eighth-note arpeggio (root, fifth, third, fifth)
            order = [voicing[0], voicing[-1], voicing[1 % len(voicing)], voicing[-1]]
            for i in range(int(beats_per_bar * 2)):
                notes.append(Note(order[i % 4], start + i * 0.5, 0.5 * 0.95, velocity - (0 if i % 4 == 0 else 5)))
        elif density < 1.7:  # block chords on every beat
            for beat in range(int(beats_per_bar)):
                notes += [Note(p, start + beat, 0.9 * intent.articulation, velocity + (6 if beat == 0 else 0)) for p in voicing]
        else:  # driving repeated eighth-note chords with accents
            for i in range(int(beats_per_bar * 2)):
                accent = 10 if i in (0, 3, 6) else 0
                notes += [Note(p, start + i * 0.5, 0.45 * intent.articulation, velocity + accent - 4) for p in voicing]
    return notes


def _pad(intent, chords, beats_per_bar):
    velocity = max(20, intent.velocity - 28)
    notes = []
    for bar, chord in enumerate(chords):
        voicing = _voicing(chord, 53, 72)
        if intent.tension > 0.6 and bar < len(chords) - 1:  # a semitone cluster above the root
            voicing = sorted(set(voicing + [voicing[0] + 1]))
        for p in voicing:
            notes.append(Note(p, bar * beats_per_bar, beats_per_bar, velocity))
    return notes


def _bass(intent, chords, beats_per_bar):
    notes = []
    velocity = intent.velocity - 6
    density = intent.density
    for bar, chord in enumerate(chords):
        start = bar * beats_per_bar
        root = _pitches_in_range({chord[0]}, 36, 47)[0]
        fifth = _pitches_in_range({chord[2 % len(chord)]}, root, root + 11)[0]
        if bar == len(chords) - 1 or density < 0.8:
            notes.append(Note(root, start, beats_per_bar * 0.98, velocity))
        elif density < 1.3:
            half = beats_per_bar / 2
            notes += [Note(root, start, half * 0.95, velocity), Note(fifth, start + half, half * 0.95, velocity - 4)]
        elif density < 1.7:
            pattern = [root, root, fifth, root + 12 if root + 12 <= 59 else root]
            notes += [Note(p, start + i, 0.9, velocity - (0 if i == 0 else 4)) for i, p in enumerate(pattern[: int(beats_per_bar)])]
        else:
            notes += [Note(root, start + i * 0.5, 0.45, velocity + (6 if i % 2 == 0 else 0)) for i in range(int(beats_per_bar * 2))]
    return notes
