"""The features the music-emotion model reads: dynamics, rhythm, register, harmony.

:func:`emotion_features` describes a score with about 90 numbers chosen for what the
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

from ..errors import InputError

__all__ = ["emotion_features", "EMOTION_FEATURE_NAMES"]

#: Frames per second of the piano roll behind the key and bass features.
ROLL_FPS = 8
#: Seconds per window of the chord-quality features.
CHORD_WINDOW = 0.5

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
    from ..extract.symbolic import _load, _seconds_function, symbolic_features

    score, name = _load(score)
    sec = _seconds_function(score)
    notes = [(n.pitch, sec(n.start), sec(n.start + n.duration), n.velocity)
             for track in score.tracks if not track.is_drum for n in track.notes]
    notes = [n for n in notes if n[2] > n[1]]
    if not notes:
        raise InputError(f"{name} has no pitched notes, so it has no emotion to estimate; give it some notes")
    notes.sort(key=lambda n: (n[1], n[0]))
    pitch = np.array([n[0] for n in notes])
    start = np.array([n[1] for n in notes])
    end = np.array([n[2] for n in notes])
    vel = np.array([n[3] for n in notes], dtype=float)
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
    return {name_: float(out[name_]) for name_ in EMOTION_FEATURE_NAMES}


def _triad_templates():
    import numpy as np

    shapes = ((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8))
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
    scores = unit @ _triad_templates().T
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
    return out


def _interval_features(pitch, start, end):
    import numpy as np

    counts = np.zeros(7)
    for i in range(len(pitch)):
        t = start[i] + 0.02
        sounding = pitch[(start <= t) & (end > t)]
        for p in sounding:
            if p != pitch[i]:
                d = abs(int(p) - int(pitch[i])) % 12
                counts[min(d, 12 - d)] += 1
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
    }


def _best_correlations(histogram, major, minor):
    import numpy as np

    def best(profile):
        values = [np.corrcoef(histogram, np.roll(profile, k))[0, 1] for k in range(12)]
        values = np.nan_to_num(values, nan=0.0)
        return float(values.max()), int(values.argmax())

    return best(np.asarray(major, float)), best(np.asarray(minor, float))


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
    return out
