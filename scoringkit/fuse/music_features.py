"""The features the music-emotion model reads: dynamics, rhythm, register, harmony.

:func:`emotion_features` describes a score with about 160 numbers chosen for what the
music-emotion literature says carries emotion in music (Gabrielsson & Lindström 2010;
Juslin 2001): loudness and its spread, note lengths and onset rate (arousal); mode,
chord quality, consonance, bass motion and register (valence). Every feature is
**transposition invariant**: absolute pitch classes were tried and dropped because
they made grouped cross-validation on EMOPIA worse (a key is not an emotion).

Groups (prefix of the name):

* ``sym_`` -- :func:`scoringkit.extract.symbolic_features` without the pitch-class
  histogram and the tempo map (note density, onset rate, pitch mean/std/range,
  velocity mean/std, articulation, polyphony, key clarity, mode strength, played tempo).
* ``dur_``, ``vel_``, ``pitch_`` -- log mean and spread of note lengths, velocity
  and pitch percentiles.
* ``chord_`` -- each half-second window's pitch classes matched against the 48
  major/minor/diminished/augmented triads (cosine): share of windows per quality, mean
  fit, and mean best-major minus best-minor fit.
* ``local_major`` -- share of 8 s windows whose key estimate is major.
* ``ic1`` .. ``ic6`` -- interval classes between notes sounding together (ic1 = minor
  second / major seventh: dissonance; ic3/ic4: minor/major thirds).
* ``melody_``, ``bass_mean`` -- the top voice's intervals (size, share of steps,
  share rising) and mean pitch; the lowest voice's mean pitch.
* ``density_cv``, ``vel_range`` -- variability of onsets per 2 s and the 5-95 %
  velocity range.
* ``key_{kk,tp,as}_{all,bass,onset}_{major,minor,diff}`` -- best major and best minor
  correlation of three pitch-class profiles (duration-weighted, lowest sounding note
  per frame, onset-weighted) with three key-profile sets: Krumhansl-Kessler (1982),
  Temperley (1999) and Albrecht-Shanahan (2013).
* ``pc_deg0`` .. ``pc_deg11`` and ``bass_deg0`` .. ``bass_deg11`` -- the pitch-class
  histogram (duration-weighted plus bass, each normalised) and the bass histogram
  relative to the tonic of the relative major key (Albrecht-Shanahan profiles), so a
  minor key's tonic lands on degree 9.
* ``bass_minor_third``, ``bass_third`` -- how often a minor rather than a major third
  sounds above the bass, and how often any third does.

The last group, :data:`HARMONY_DETAIL_NAMES`, was added for the valence side (sad vs calm,
tense vs happy), where mode alone leaves the most doubt:

* ``vocab_<quality>`` -- each half-second window matched against 108 chord templates
  (major, minor, diminished, augmented and sus4 triads; major, minor, dominant and
  half-diminished sevenths, on all 12 roots): share of windows per quality.
* ``local_key_mode_mean``, ``local_key_mode_std``, ``local_key_minor``,
  ``local_key_changes`` -- over 4 s windows (hop 2 s), the best major minus the best
  minor Krumhansl-Kessler correlation (mean and spread), the share of windows heard as
  minor, and how often the local tonic (of the relative major) changes.
* ``chromatic_share``, ``pc_entropy`` -- share of the sounding time outside the
  diatonic scale of the clip's key (Albrecht-Shanahan estimate) and the entropy (bits)
  of the pitch-class histogram.
* ``outer_interval0`` .. ``outer_interval11``, ``outer_span`` -- the interval (mod 12)
  from the lowest to the highest note at each onset, as shares, and its mean in
  semitones (outer voices: a major third or sixth over the bass sounds brighter than a
  minor one).
* ``above_bass1`` .. ``above_bass11`` -- every sounding note's interval (mod 12) above the
  lowest sounding note, per piano-roll frame, as shares.

The last group, :data:`TEXTURE_NAMES`, describes how much sound the notes make and where
(the loudness and spectral balance an audio model hears, read from the notes; it raised
grouped cross-validated accuracy on EMOPIA by about a point on both axes):

* ``register_energy0`` .. ``register_energy7`` and ``register_onsets0`` .. ``register_onsets7``
  -- per octave band from A0 (band 7 = A7 and up), the share of the energy (velocity²
  x duration) and of the onsets.
* ``energy_pitch_mean`` -- the energy-weighted mean pitch (brightness).
* ``sounding_per_s``, ``energy_per_s``, ``log_energy_per_s`` -- summed note length and
  energy per second.
* ``frame_energy_std``, ``silence_share`` -- spread of the log energy of 0.1 s frames, and
  the share of frames where nothing sounds.
* ``vel_high_share``, ``vel_low_share``, ``vel_top_minus_bottom`` -- share of loud (> 80)
  and soft (< 45) notes, and the mean velocity above the median pitch minus below it.
* ``dur_long_share``, ``dur_short_share`` -- share of notes longer than 1 s and shorter
  than 0.15 s.

Examples
--------
>>> import scoringkit as sk
>>> notes = [sk.Note(p, i // 3, 1, 70) for i, p in enumerate([60, 64, 67, 57, 60, 64, 65, 69, 72, 55, 59, 62])]
>>> f = emotion_features(sk.Score([sk.Track("piano", 0, notes)], tempo=60))
>>> len(f) == len(EMOTION_FEATURE_NAMES), f["chord_major"] > f["chord_minor"]
(True, True)
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..errors import InputError

__all__ = ["emotion_features", "EMOTION_FEATURE_NAMES", "HARMONY_DETAIL_NAMES", "TEXTURE_NAMES"]

#: Frames per second of the piano roll behind the key and bass features.
ROLL_FPS = 8
#: Seconds per window of the chord-quality features.
CHORD_WINDOW = 0.5
#: Chord windows per local-key window (4 s) and per hop between local-key windows (2 s).
LOCAL_KEY_WINDOWS, LOCAL_KEY_HOP = 8, 4

#: Chord shapes of the ``vocab_`` features (pitch classes above the root).
CHORD_VOCABULARY = {
    "major": (0, 4, 7), "minor": (0, 3, 7), "diminished": (0, 3, 6), "augmented": (0, 4, 8), "sus4": (0, 5, 7),
    "major7": (0, 4, 7, 11), "minor7": (0, 3, 7, 10), "dominant7": (0, 4, 7, 10), "half_diminished7": (0, 3, 6, 10),
}

_SYMBOLIC_KEPT = ("note_density", "onset_rate", "pitch_mean", "pitch_std", "pitch_range", "velocity_mean",
                  "velocity_std", "articulation", "polyphony", "key_clarity", "mode_strength", "tempo_estimate")

# Key profiles (major, minor), index 0 = tonic.
_PROFILES = {
    "kk": ((6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
           (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)),
    "tp": ((5, 2, 3.5, 2, 4.5, 4, 2, 4.5, 2, 3.5, 1.5, 4),
           (5, 2, 3.5, 4.5, 2, 4, 2, 4.5, 3.5, 2, 1.5, 4)),
    "as": ((.238, .006, .111, .006, .137, .094, .016, .214, .009, .080, .008, .081),
           (.220, .006, .104, .123, .019, .103, .012, .214, .062, .022, .061, .052)),
}

EMOTION_FEATURE_NAMES = (
    tuple(f"sym_{name}" for name in _SYMBOLIC_KEPT)
    + ("dur_log_mean", "dur_std", "vel_p90", "vel_p10", "pitch_p90", "pitch_p10", "is_major")
    + ("chord_major", "chord_minor", "chord_diminished", "chord_augmented", "chord_fit", "chord_major_minus_minor",
       "local_major")
    + tuple(f"ic{k}" for k in range(1, 7))
    + ("melody_abs_interval", "melody_steps", "melody_rising", "melody_mean", "bass_mean", "density_cv", "vel_range")
    + tuple(f"key_{p}_{src}_{kind}" for p in _PROFILES for src in ("all", "bass", "onset")
            for kind in ("diff", "major", "minor"))
    + tuple(f"pc_deg{k}" for k in range(12))
    + tuple(f"bass_deg{k}" for k in range(12))
    + ("bass_minor_third", "bass_third")
)

#: The features that describe harmony and voicing in more detail (added to the model's
#: valence side; see the module docstring).
HARMONY_DETAIL_NAMES = (
    tuple(f"vocab_{quality}" for quality in CHORD_VOCABULARY)
    + ("local_key_mode_mean", "local_key_mode_std", "local_key_minor", "local_key_changes",
       "chromatic_share", "pc_entropy")
    + tuple(f"outer_interval{k}" for k in range(12)) + ("outer_span",)
    + tuple(f"above_bass{k}" for k in range(1, 12))
)
EMOTION_FEATURE_NAMES += HARMONY_DETAIL_NAMES

#: Energy and register of the sound the notes make (see the module docstring); in both
#: sides of the model.
TEXTURE_NAMES = (
    tuple(f"register_energy{k}" for k in range(8)) + tuple(f"register_onsets{k}" for k in range(8))
    + ("energy_pitch_mean", "sounding_per_s", "energy_per_s", "log_energy_per_s", "frame_energy_std", "silence_share",
       "vel_high_share", "vel_low_share", "vel_top_minus_bottom", "dur_long_share", "dur_short_share")
)
EMOTION_FEATURE_NAMES += TEXTURE_NAMES
#: Frames per second of the ``frame_energy_std`` and ``silence_share`` features.
TEXTURE_FPS = 10


def emotion_features(score) -> dict:
    """Compute the music-emotion model's input features of a score.

    Parameters
    ----------
    score : Score, str or Path
        A :class:`~scoringkit.Score` or a MIDI file. Drum tracks are left out (only
        pitched notes carry harmony).

    Returns
    -------
    dict
        ``{name: float}`` in the order of :data:`EMOTION_FEATURE_NAMES`.

    Raises
    ------
    InputError
        A score without pitched notes (nothing to hear an emotion in), or an input
        :func:`scoringkit.extract.symbolic_features` cannot read.

    Examples
    --------
    >>> import scoringkit as sk
    >>> minor = [sk.Note(p, 0, 4, 50) for p in (57, 60, 64)]
    >>> emotion_features(sk.Score([sk.Track("p", 0, minor)]))["chord_minor"]
    1.0
    """
    import numpy as np

    from ..extract.audio import estimate_key
    from ..extract.symbolic import _load, symbolic_features

    score, name = _load(score)
    pitched = [n for track in score.tracks if not track.is_drum for n in track.notes]
    beats = np.array([(n.start, n.start + n.duration) for n in pitched], dtype=float).reshape(-1, 2)
    seconds = _seconds(score, beats)
    keep = seconds[:, 1] > seconds[:, 0]
    if not keep.any():
        raise InputError(f"{name} has no pitched notes, so it has no emotion to estimate; give it some notes")
    pitch = np.array([n.pitch for n in pitched])[keep]
    vel = np.array([n.velocity for n in pitched], dtype=float)[keep]
    start, end = seconds[keep, 0], seconds[keep, 1]
    order = np.lexsort((pitch, start))
    pitch, start, end, vel = pitch[order], start[order], end[order], vel[order]
    dur = end - start

    out = {}
    summary = symbolic_features(score).summary()
    for key in _SYMBOLIC_KEPT:
        out[f"sym_{key}"] = summary[key]
    sym_mode_major = summary["mode_strength"] > 0
    out.update(dur_log_mean=math.log(max(dur.mean(), 1e-3)), dur_std=float(dur.std()),
               vel_p90=np.percentile(vel, 90), vel_p10=np.percentile(vel, 10),
               pitch_p90=np.percentile(pitch, 90), pitch_p10=np.percentile(pitch, 10),
               is_major=float(sym_mode_major))
    out.update(_chord_features(pitch, start, end, vel, estimate_key))
    out.update(_interval_features(pitch, start, end))
    out.update(_voice_features(pitch, start, vel))
    out.update(_roll_features(pitch, start, end, vel))
    out.update(_texture_features(pitch, start, end, vel))
    return {name_: float(out[name_]) for name_ in EMOTION_FEATURE_NAMES}


def _seconds(score, beats):
    """Beats (any array shape) to seconds through the score's piecewise-constant tempo map."""
    import numpy as np

    starts = np.array([b for b, _ in score.tempo_map], dtype=float)
    at = np.array([score.seconds_at(b) for b in starts], dtype=float)
    per_beat = np.array([60.0 / bpm for _, bpm in score.tempo_map], dtype=float)
    i = np.maximum(np.searchsorted(starts, beats, side="right") - 1, 0)
    return at[i] + (beats - starts[i]) * per_beat[i]


@lru_cache(maxsize=8)
def _chord_templates(shapes):
    """Unit-norm 12-bin templates of each shape on each root: row ``12 * shape + root``."""
    import numpy as np

    rows = []
    for shape in shapes:
        base = np.zeros(12)
        base[list(shape)] = 1
        rows.extend(np.roll(base, r) for r in range(12))
    rows = np.array(rows)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _chord_features(pitch, start, end, vel, estimate_key):
    import numpy as np

    n_windows = int(math.ceil(end.max() / CHORD_WINDOW))
    chroma = np.zeros((n_windows, 12))
    for p, s, e, v in zip(pitch, start, end, vel):
        first, last = int(s / CHORD_WINDOW), min(int(math.ceil(e / CHORD_WINDOW)), n_windows)
        for w in range(first, last):
            overlap = min(e, (w + 1) * CHORD_WINDOW) - max(s, w * CHORD_WINDOW)
            if overlap > 0:
                chroma[w, p % 12] += overlap * v / 127
    norms = np.linalg.norm(chroma, axis=1)
    unit = chroma[norms > 0] / norms[norms > 0, None]
    scores = unit @ _chord_templates(((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8))).T
    quality = scores.argmax(1) // 12
    out = {f"chord_{q}": float((quality == k).mean())
           for k, q in enumerate(("major", "minor", "diminished", "augmented"))}
    out["chord_fit"] = float(scores.max(1).mean())
    out["chord_major_minus_minor"] = float((scores[:, :12].max(1) - scores[:, 12:24].max(1)).mean())
    window = 16  # 8 s of half-second windows, hop 4 s
    modes = []
    for first in range(0, n_windows, window // 2):
        profile = chroma[first:first + window].sum(0)
        if profile.sum() > 0:
            key = estimate_key(profile / profile.sum())
            if key:
                modes.append(key["mode"] == "major")
    out["local_major"] = float(np.mean(modes)) if modes else 0.5
    vocabulary = (unit @ _chord_templates(tuple(CHORD_VOCABULARY.values())).T).argmax(1) // 12
    out.update({f"vocab_{q}": float((vocabulary == k).mean()) for k, q in enumerate(CHORD_VOCABULARY)})
    out.update(_local_key_features(chroma))
    out.update(_scale_features(chroma.sum(0)))
    return out


def _local_key_features(chroma):
    """Mode and tonic of 4 s windows (hop 2 s) of half-second chroma, summarised."""
    import numpy as np

    n_hops = int(math.ceil(len(chroma) / LOCAL_KEY_HOP))
    hops = np.zeros((n_hops, 12))
    np.add.at(hops, np.arange(len(chroma)) // LOCAL_KEY_HOP, chroma)
    per_window = LOCAL_KEY_WINDOWS // LOCAL_KEY_HOP
    n_windows = max(n_hops - per_window + 1, 1)
    windows = sum(hops[k:k + n_windows] for k in range(min(per_window, n_hops)))
    windows = windows[windows.sum(1) > 0]
    if not len(windows):
        return {"local_key_mode_mean": 0.0, "local_key_mode_std": 0.0, "local_key_minor": 0.5,
                "local_key_changes": 0.0}
    major, minor = (_profile_correlations(windows, p) for p in _PROFILES["kk"])
    best_major, best_minor = major.max(1), minor.max(1)
    mode_diffs = best_major - best_minor
    tonics = np.where(best_major >= best_minor, major.argmax(1), (minor.argmax(1) + 3) % 12)
    return {"local_key_mode_mean": float(mode_diffs.mean()), "local_key_mode_std": float(mode_diffs.std()),
            "local_key_minor": float(np.mean(best_minor > best_major)),
            "local_key_changes": float(np.mean(np.diff(tonics) != 0)) if len(tonics) > 1 else 0.0}


def _scale_features(histogram):
    """Share of the pitch-class weight outside the diatonic scale of the best key, and its entropy."""
    import numpy as np

    major, minor = (_profile_correlations(histogram, p) for p in _PROFILES["as"])
    tonic = int(major.argmax()) if major.max() >= minor.max() else (int(minor.argmax()) + 3) % 12
    share = histogram / max(histogram.sum(), 1e-12)
    diatonic = np.zeros(12)
    diatonic[[(tonic + k) % 12 for k in (0, 2, 4, 5, 7, 9, 11)]] = 1
    nonzero = share[share > 0]
    return {"chromatic_share": float((share * (1 - diatonic)).sum()),
            "pc_entropy": float(-(nonzero * np.log2(nonzero)).sum())}


def _interval_features(pitch, start, end, chunk: int = 256):
    """Interval classes between each note, 20 ms after its onset, and the other pitches sounding then.

    Notes come sorted by onset; they are taken ``chunk`` at a time against the notes that
    can overlap them (started at most the longest note's length before), so memory stays small.
    """
    import numpy as np

    counts = np.zeros(7)
    probe = start + 0.02
    longest = float((end - start).max())
    for first in range(0, len(pitch), chunk):
        rows = slice(first, first + chunk)
        lo = int(np.searchsorted(start, probe[rows].min() - longest, side="left"))
        hi = int(np.searchsorted(start, probe[rows].max(), side="right"))
        t = probe[rows, None]
        sounding = (start[None, lo:hi] <= t) & (end[None, lo:hi] > t) & (pitch[None, lo:hi] != pitch[rows, None])
        distance = np.abs(pitch[None, lo:hi].astype(int) - pitch[rows, None].astype(int)) % 12
        counts += np.bincount(np.minimum(distance, 12 - distance)[sounding], minlength=7)[:7]
    counts /= max(counts.sum(), 1)
    return {f"ic{k}": float(counts[k]) for k in range(1, 7)}


def _voice_features(pitch, start, vel):
    import numpy as np

    slots = np.round(start / 0.05).astype(int)
    top, low = {}, {}
    for s, p in zip(slots, pitch):
        top[s] = max(top.get(s, 0), p)
        low[s] = min(low.get(s, 200), p)
    melody = np.array([top[s] for s in sorted(top)])
    bass = np.array([low[s] for s in sorted(top)])
    outer = np.bincount((melody - bass) % 12, minlength=12) / len(melody)
    steps = np.diff(melody)
    onsets = np.unique(np.round(start / 0.03)) * 0.03
    per_2s = np.bincount((onsets / 2).astype(int))
    return {
        "melody_abs_interval": float(np.abs(steps).mean()) if len(steps) else 0.0,
        "melody_steps": float((np.abs(steps) <= 2).mean()) if len(steps) else 0.0,
        "melody_rising": float((steps > 0).mean()) if len(steps) else 0.0,
        "melody_mean": float(melody.mean()),
        "bass_mean": float(np.mean(list(low.values()))),
        "density_cv": float(per_2s.std() / max(per_2s.mean(), 1e-6)),
        "vel_range": float(np.percentile(vel, 95) - np.percentile(vel, 5)),
        **{f"outer_interval{k}": float(outer[k]) for k in range(12)},
        "outer_span": float((melody - bass).mean()),
    }


@lru_cache(maxsize=16)
def _rolled_profile(profile):
    """A key profile on each of the 12 tonics (rows), centred, and the rows' norms."""
    import numpy as np

    rolled = np.array([np.roll(np.asarray(profile, float), k) for k in range(12)])
    rolled -= rolled.mean(1, keepdims=True)
    return rolled, np.linalg.norm(rolled, axis=1)


def _profile_correlations(histograms, profile):
    """Pearson correlation of 12-bin histograms (one, or one per row) with a key profile on each tonic.

    Returns shape ``(12,)`` for one histogram, ``(n, 12)`` for n; 0 where a histogram is flat.
    """
    import numpy as np

    rolled, rolled_norms = _rolled_profile(tuple(profile))
    centred = np.asarray(histograms, float)
    centred = centred - centred.mean(-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1)[..., None] * rolled_norms
    return np.where(norms > 0, centred @ rolled.T / np.maximum(norms, 1e-300), 0.0)


def _best_correlations(histogram, major, minor):
    """``((best r, its tonic), (best r, its tonic))`` for the major and the minor profile."""
    best = [_profile_correlations(histogram, profile) for profile in (major, minor)]
    return tuple((float(r.max()), int(r.argmax())) for r in best)


def _roll_features(pitch, start, end, vel):
    import numpy as np

    n_frames = int(math.ceil(end.max() * ROLL_FPS)) + 1
    sustain = np.zeros((88, n_frames))
    onset = np.zeros((88, n_frames))
    for p, s, e, v in zip(pitch, start, end, vel):
        row = min(max(int(p) - 21, 0), 87)
        a = int(s * ROLL_FPS)
        b = max(a + 1, int(round(e * ROLL_FPS)))
        sustain[row, a:b] = np.maximum(sustain[row, a:b], v / 127)
        onset[row, a] = v / 127
    pcs = (np.arange(88) + 21) % 12
    active = sustain > 0
    sounding = active.any(0)
    lowest = np.argmax(active, 0)
    hist_all, hist_bass, hist_onset = np.zeros(12), np.zeros(12), np.zeros(12)
    np.add.at(hist_all, pcs, sustain.sum(1))
    np.add.at(hist_bass, pcs[lowest[sounding]], 1)
    np.add.at(hist_onset, pcs, onset.sum(1))
    out = {}
    for name, (major, minor) in _PROFILES.items():
        for src, hist in (("all", hist_all), ("bass", hist_bass), ("onset", hist_onset)):
            (best_major, _), (best_minor, _) = _best_correlations(hist, major, minor)
            out[f"key_{name}_{src}_diff"] = best_major - best_minor
            out[f"key_{name}_{src}_major"] = best_major
            out[f"key_{name}_{src}_minor"] = best_minor
    combined = hist_all / max(hist_all.sum(), 1e-9) + hist_bass / max(hist_bass.sum(), 1)
    (best_major, major_tonic), (best_minor, minor_tonic) = _best_correlations(combined, *_PROFILES["as"])
    tonic = major_tonic if best_major >= best_minor else (minor_tonic + 3) % 12
    pc_relative = np.roll(combined / combined.sum(), -tonic)
    bass_relative = np.roll(hist_bass / max(hist_bass.sum(), 1), -tonic)
    out.update({f"pc_deg{k}": float(pc_relative[k]) for k in range(12)})
    out.update({f"bass_deg{k}": float(bass_relative[k]) for k in range(12)})
    minor_thirds = major_thirds = 0
    frames = np.where(sounding)[0][::2]
    for t in frames:
        intervals = set(((np.where(active[:, t])[0] - lowest[t]) % 12).tolist())
        minor_thirds += 3 in intervals
        major_thirds += 4 in intervals
    out["bass_minor_third"] = minor_thirds / (minor_thirds + major_thirds + 1e-6)
    out["bass_third"] = (minor_thirds + major_thirds) / max(len(frames), 1)
    above = np.bincount(((np.arange(88)[:, None] - lowest[None, :]) % 12)[active], minlength=12).astype(float)
    above[0] = 0.0
    above /= max(above.sum(), 1.0)
    out.update({f"above_bass{k}": float(above[k]) for k in range(1, 12)})
    return out


def _texture_features(pitch, start, end, vel):
    """Energy (velocity² x duration) by octave band, per second and over 0.1 s frames; loud, soft, long, short notes.

    Examples
    --------
    >>> import numpy as np
    >>> f = _texture_features(np.array([48, 72]), np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([40.0, 80.0]))
    >>> round(f["register_energy4"], 2), round(f["register_energy2"], 2), f["vel_top_minus_bottom"]
    (0.8, 0.2, 40.0)
    """
    import numpy as np

    dur = end - start
    span = max(float(end.max()), 1e-3)
    energy = dur * (vel / 127) ** 2
    band = np.clip((pitch.astype(int) - 21) // 12, 0, 7)
    by_energy = np.bincount(band, weights=energy, minlength=8)
    by_energy /= max(by_energy.sum(), 1e-9)
    by_onsets = np.bincount(band, minlength=8) / len(band)
    n_frames = int(span * TEXTURE_FPS) + 2
    change = np.zeros(n_frames + 1)  # each note adds its energy rate to frames int(start * fps) .. int(end * fps)
    np.add.at(change, (start * TEXTURE_FPS).astype(int), (vel / 127) ** 2)
    np.add.at(change, (end * TEXTURE_FPS).astype(int) + 1, -(vel / 127) ** 2)
    frames = np.maximum(np.cumsum(change)[:n_frames], 0.0)
    frames[frames < 1e-9] = 0.0
    above = pitch > np.median(pitch)
    out = {f"register_energy{k}": float(by_energy[k]) for k in range(8)}
    out.update({f"register_onsets{k}": float(by_onsets[k]) for k in range(8)})
    out.update(
        energy_pitch_mean=float((pitch * energy).sum() / max(energy.sum(), 1e-9)),
        sounding_per_s=float(dur.sum() / span),
        energy_per_s=float(energy.sum() / span),
        log_energy_per_s=math.log(max(energy.sum() / span, 1e-6)),
        frame_energy_std=float(np.log1p(frames).std()),
        silence_share=float((frames == 0).mean()),
        vel_high_share=float((vel > 80).mean()),
        vel_low_share=float((vel < 45).mean()),
        vel_top_minus_bottom=float(vel[above].mean() - vel[~above].mean()) if above.any() else 0.0,
        dur_long_share=float((dur > 1.0).mean()),
        dur_short_share=float((dur < 0.15).mean()),
    )
    return out
