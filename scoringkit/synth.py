"""Score → audio.

Two synthesisers share one event list:

* ``"tinysoundfont"`` plays the score through a SoundFont with the small C synth
  `tinysoundfont`. The default SoundFont is ``TimGM6mb.sf2`` (General MIDI, GPL-2),
  which ships inside the ``pretty_midi`` wheel and is loaded from there, never copied.
* ``"numpy"`` is a small additive synthesiser in pure NumPy (harmonic spectra and
  envelopes per instrument family, noise-based drums). It needs nothing else, so
  audio works even where tinysoundfont cannot be installed.

``synth="auto"`` uses tinysoundfont when it imports and falls back to numpy.
The output is mono float32 with a fixed headroom; only if the mix would still
clip is the whole piece scaled down (never up), so relative loudness between
quiet and loud cues is kept.

Examples
--------
>>> from scoringkit.types import Score, Track, Note
>>> audio = render(Score([Track("p", 0, [Note(60, 0, 1)])], tempo=120), sr=22050, synth="numpy")
>>> audio.dtype, float(abs(audio).max()) <= 1.0
(dtype('float32'), True)
"""

from __future__ import annotations

import math
from functools import lru_cache

from .errors import InputError, RenderError, choice_error
from .types import Score

__all__ = ["render", "SYNTHS", "default_soundfont", "available_synths"]

SYNTHS = ("auto", "tinysoundfont", "numpy")
#: Seconds rendered after the last note ends, for releases and reverb tails.
TAIL_SECONDS = 1.5
HEADROOM = 0.5  # fixed gain applied to the raw synth mix
PEAK_LIMIT = 0.98


def default_soundfont():
    """Path of the General MIDI SoundFont inside the installed ``pretty_midi`` package."""
    from importlib.resources import files

    path = files("pretty_midi") / "TimGM6mb.sf2"
    if not path.is_file():
        raise RenderError("pretty_midi's TimGM6mb.sf2 is missing; reinstall pretty_midi or use synth='numpy'")
    return str(path)


def available_synths() -> list[str]:
    """Synthesisers usable in this environment (``"numpy"`` always is)."""
    names = ["numpy"]
    try:
        import tinysoundfont  # noqa: F401

        names.insert(0, "tinysoundfont")
    except ImportError:
        pass
    return names


def _events(score: Score):
    """Note and program events in seconds: (time, order, kind, channel, a, b)."""
    from .io import _assign_channels

    events = []
    for track, channel in zip(score.tracks, _assign_channels(score.tracks)):
        if not track.is_drum:
            events.append((0.0, 0, "program", channel, track.program, 0))
            events += [(score.seconds_at(b), 0, "program", channel, int(p), 0) for b, p in track.program_changes]
        for note in track.notes:
            start = score.seconds_at(note.start)
            events.append((start, 2, "on", channel, note.pitch, note.velocity))
            events.append((score.seconds_at(note.end), 1, "off", channel, note.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def render(score: Score, *, sr: int = 44100, synth: str = "auto", soundfont=None):
    """Synthesise a score to mono audio.

    Parameters
    ----------
    score : Score
    sr : int
        Sample rate in Hz (8,000-192,000).
    synth : str
        ``"auto"``, ``"tinysoundfont"`` or ``"numpy"``.
    soundfont : str or Path, optional
        A ``.sf2`` file for tinysoundfont; default :func:`default_soundfont`.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n_samples,)``, finite, peak ≤ 1; the score's length plus
        a short release tail.

    Examples
    --------
    >>> import scoringkit as sk
    >>> audio = sk.render(sk.compose(sk.Emotion(0.5, 0.5), duration=4), sr=22050)
    >>> 4 * 22050 < len(audio) < 8 * 22050
    True
    """
    import numpy as np

    if not isinstance(score, Score):
        raise InputError(f"render needs a Score, not {type(score).__name__}; compose one or load it with Score.from_midi")
    if not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 192000:
        raise InputError(f"sr must be an integer sample rate between 8000 and 192000 Hz, got {sr!r}")
    if synth not in SYNTHS:
        raise choice_error("synth", synth, SYNTHS)
    if synth == "auto":
        synth = available_synths()[0]
    n_samples = max(1, int(math.ceil((score.duration + TAIL_SECONDS) * sr))) if score.n_notes else 1
    events = _events(score)
    if synth == "tinysoundfont":
        audio = _render_tinysoundfont(events, n_samples, sr, soundfont)
    else:
        audio = _render_numpy(score, n_samples, sr)
    audio = np.nan_to_num(audio.astype(np.float32) * HEADROOM, nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > PEAK_LIMIT:
        audio *= PEAK_LIMIT / peak
    return audio


def _render_tinysoundfont(events, n_samples, sr, soundfont):
    import numpy as np

    try:
        import tinysoundfont
    except ImportError:
        raise RenderError("tinysoundfont is not installed; pip install --no-deps tinysoundfont, or use synth='numpy'") from None
    synth = tinysoundfont.Synth(samplerate=sr)
    try:
        sfid = synth.sfload(str(soundfont or default_soundfont()))
    except Exception as err:  # tinysoundfont raises its own exception types
        raise RenderError(f"could not load SoundFont {soundfont or default_soundfont()!r}: {err}") from None
    drum_ready = False
    out = np.zeros((n_samples, 2), dtype=np.float32)
    position = 0
    for time, _, kind, channel, a, b in events:
        target = min(n_samples, int(round(time * sr)))
        if target > position:
            block = np.frombuffer(synth.generate(target - position), dtype=np.float32).reshape(-1, 2)
            out[position:target] = block
            position = target
        if kind == "program":
            synth.program_select(channel, sfid, 0, a)
        elif kind == "on":
            if channel == 9 and not drum_ready:
                synth.program_select(9, sfid, 128, 0)
                drum_ready = True
            synth.noteon(channel, a, b)
        else:
            synth.noteoff(channel, a)
    if position < n_samples:
        out[position:] = np.frombuffer(synth.generate(n_samples - position), dtype=np.float32).reshape(-1, 2)
    return out.mean(axis=1)


# -- the pure-numpy synthesiser ------------------------------------------------------------
# (harmonic amplitudes, attack s, decay per second (0 = sustained), release s) by GM family
_FAMILIES = {
    "piano": ((1.0, 0.5, 0.3, 0.15, 0.08), 0.005, 2.5, 0.25),
    "plucked": ((1.0, 0.6, 0.3, 0.2, 0.1), 0.003, 4.0, 0.2),
    "organ": ((1.0, 0.8, 0.6, 0.0, 0.3), 0.02, 0.0, 0.08),
    "bass": ((1.0, 0.4, 0.15), 0.01, 1.5, 0.1),
    "strings": ((1.0, 0.6, 0.45, 0.3, 0.2, 0.12), 0.12, 0.0, 0.35),
    "brass": ((1.0, 0.8, 0.6, 0.45, 0.3), 0.05, 0.0, 0.15),
    "reed": ((1.0, 0.1, 0.55, 0.05, 0.3), 0.04, 0.0, 0.12),
    "pipe": ((1.0, 0.25, 0.08), 0.05, 0.0, 0.12),
    "pad": ((1.0, 0.5, 0.25, 0.12), 0.35, 0.0, 0.6),
}


def _family(program: int) -> str:
    group = program // 8
    return {0: "piano", 1: "plucked", 2: "organ", 3: "plucked", 4: "bass", 5: "strings", 6: "strings",
            7: "brass", 8: "reed", 9: "pipe", 10: "pad", 11: "pad"}.get(group, "piano" if group < 13 else "plucked")


def _render_numpy(score: Score, n_samples, sr):
    import numpy as np

    out = np.zeros(n_samples, dtype=np.float64)
    rng = np.random.default_rng(0)
    for track in score.tracks:
        for note in track.notes:
            start = int(score.seconds_at(note.start) * sr)
            if start >= n_samples:
                continue
            length_s = score.seconds_at(note.end) - score.seconds_at(note.start)
            gain = 0.25 * (note.velocity / 127.0) ** 2
            if track.is_drum:
                wave = _drum(note.pitch, sr, rng) * gain
            else:
                wave = _tone(note.pitch, length_s, _family(track.program_at(note.start)), sr) * gain
            end = min(n_samples, start + len(wave))
            out[start:end] += wave[: end - start]
    return out


@lru_cache(maxsize=4096)
def _tone_cached(pitch, n_sound, family, sr):
    import numpy as np

    harmonics, attack, decay, release = _FAMILIES[family]
    n_release = int(release * sr)
    n = n_sound + n_release
    t = np.arange(n) / sr
    freq = 440.0 * 2 ** ((pitch - 69) / 12)
    wave = np.zeros(n)
    for k, amp in enumerate(harmonics, start=1):
        if amp and freq * k < sr / 2:
            wave += amp * np.sin(2 * np.pi * freq * k * t)
    env = np.ones(n)
    n_attack = max(1, min(int(attack * sr), n_sound))
    env[:n_attack] = np.linspace(0, 1, n_attack)
    if decay:
        env *= np.exp(-decay * t)
    level = env[n_sound - 1] if n_sound else 0.0
    env[n_sound:] = level * np.linspace(1, 0, n - n_sound)
    result = wave * env / sum(harmonics)
    result.setflags(write=False)
    return result


def _tone(pitch, seconds, family, sr):
    return _tone_cached(int(pitch), max(1, int(seconds * sr)), family, int(sr))


def _drum(pitch, sr, rng):
    import numpy as np

    if pitch in (35, 36):  # kick: falling sine
        t = np.arange(int(0.35 * sr)) / sr
        return np.sin(2 * np.pi * (50 + 90 * np.exp(-t * 30)) * t) * np.exp(-t * 9)
    if pitch in (38, 40, 39):  # snare / clap: noise burst
        t = np.arange(int(0.25 * sr)) / sr
        return rng.uniform(-1, 1, t.size) * np.exp(-t * 18) * 0.8
    t = np.arange(int(0.12 * sr)) / sr  # hats, cymbals, everything else: short bright noise
    noise = rng.uniform(-1, 1, t.size)
    return np.diff(noise, prepend=0.0) * np.exp(-t * 40) * 0.5
