"""Score → audio.

Two synthesisers share one event list:

* ``"tinysoundfont"`` plays the score through a SoundFont with the small C synth
  `tinysoundfont`. The default SoundFont is ``TimGM6mb.sf2`` (General MIDI, GPL-2),
  which ships inside the ``pretty_midi`` wheel and is loaded from there, never copied.
* ``"numpy"`` is a small additive synthesiser in pure NumPy (harmonic spectra and
  envelopes per instrument family, noise-based drums). It needs nothing else, so
  audio works even where tinysoundfont cannot be installed.

``synth="auto"`` uses tinysoundfont when it imports and falls back to numpy.
Neither synthesiser has a room of its own, so :func:`render` adds the score's reverb
(:attr:`~scoringkit.types.Score.reverb_map`) itself by convolution with a synthetic
impulse response (:func:`impulse_response`).
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

__all__ = ["render", "SYNTHS", "default_soundfont", "available_synths", "click_track", "mix_clicks",
           "impulse_response", "add_reverb"]

SYNTHS = ("auto", "tinysoundfont", "numpy")
#: Seconds rendered after the last note ends, for releases and reverb tails.
TAIL_SECONDS = 1.5
HEADROOM = 0.5  # fixed gain applied to the raw synth mix
PEAK_LIMIT = 0.98
#: Reverberation time (to -60 dB) at reverb 0+ and at reverb 1, in seconds.
RT60_RANGE = (0.3, 1.5)
#: Level of the reverberant sound relative to the dry sound at reverb 1.
WET_GAIN = 0.8


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


def render(score: Score, *, sr: int = 44100, synth: str = "auto", soundfont=None, tail: float = TAIL_SECONDS,
           reverb=None):
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
    tail : float
        Seconds rendered after the last note ends, for releases (default
        :data:`TAIL_SECONDS`, 1.5; 0-60).
    reverb : float, optional
        Room to add, 0 (dry) to 1 (a long hall), for the whole score. ``None`` (the
        default) follows the score's own :attr:`~scoringkit.types.Score.reverb_map`,
        which the composer fills from the intent; ``0`` renders dry.

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
    sr = _check_sr(sr)
    if synth not in SYNTHS:
        raise choice_error("synth", synth, SYNTHS)
    if synth == "auto":
        synth = available_synths()[0]
    if isinstance(tail, bool) or not isinstance(tail, (int, float, np.integer, np.floating)) or not 0 <= tail <= 60:
        raise InputError(f"tail must be a number of seconds between 0 and 60, got {tail!r}")
    if reverb is None:
        rooms = [(score.seconds_at(beat), amount) for beat, amount in score.reverb_map]
    else:
        rooms = [(0.0, _check_reverb(reverb, hint=", or None for the score's own"))]
    n_samples = max(1, int(math.ceil((score.duration + tail) * sr))) if score.n_notes else 1
    events = _events(score)
    if synth == "tinysoundfont":
        audio = _render_tinysoundfont(events, n_samples, sr, soundfont)
    else:
        audio = _render_numpy(score, n_samples, sr)
    audio = np.nan_to_num(audio.astype(np.float32) * HEADROOM, nan=0.0, posinf=0.0, neginf=0.0)
    if any(amount > 0 for _, amount in rooms):
        audio = _add_rooms(audio, rooms, sr)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > PEAK_LIMIT:
        audio *= PEAK_LIMIT / peak
    return audio


def impulse_response(amount: float, sr: int = 44100):
    """A synthetic room: the impulse response :func:`render` convolves with for reverb ``amount``.

    Built from the acoustics of a diffuse room rather than recorded: after a pre-delay
    of 8-25 ms come six early reflections (a sparse set of attenuated copies), then a
    late tail of noise whose energy decays exponentially, reaching -60 dB after the
    reverberation time ``RT60 = 0.3 + 1.2 · amount`` seconds (Sabine's definition;
    small rooms ≈ 0.3 s, concert halls 1.5-2 s). High frequencies die out faster, as
    they do in air and on soft walls: the tail is the sum of a bright band that decays
    with ``RT60 / 2`` and a dark (low-passed) band that decays with ``RT60``. The
    response is cut where it has decayed by 60 dB and scaled to unit energy, so the
    reverberant sound is about as loud as the dry sound before :data:`WET_GAIN`.

    More reverb makes music sound more distant, sad, romantic or mysterious and less
    happy, comic or heroic (Mo, Wu & Horner 2015, "The effects of reverberation on the
    emotional characteristics of musical instruments", J. Audio Eng. Soc. 63(12)), which
    is why the mapping table gives calm and sad scenes more room than excited ones.

    Parameters
    ----------
    amount : float
        0 < amount ≤ 1.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    numpy.ndarray
        float64, unit energy, ``≈ RT60 · sr`` samples; the same array for the same input.

    Examples
    --------
    >>> ir = impulse_response(0.5, sr=8000)
    >>> round(len(ir) / 8000, 2), round(float((ir ** 2).sum()), 6)
    (0.9, 1.0)
    """
    amount = _check_reverb(amount)
    if amount == 0:
        raise InputError("a reverb amount of 0 is a dry room, which has no impulse response; use 0 < amount <= 1")
    return _impulse_response(round(amount, 3), int(_check_sr(sr))).copy()


@lru_cache(maxsize=32)
def _impulse_response(amount, sr):
    import numpy as np

    low, high = RT60_RANGE
    rt60 = low + (high - low) * amount
    n = max(2, int(round(rt60 * sr)))
    rng = np.random.default_rng(91)  # fixed: the same room every time
    t = np.arange(n) / sr
    noise = rng.standard_normal((2, n))
    # the dark band: noise through a one-pole low-pass around 2 kHz, y[i] = (1 - a) x[i] + a y[i - 1],
    # applied in the frequency domain (circularly: for noise the wrap-around is just more noise)
    alpha = math.exp(-2 * math.pi * 2000.0 / sr)
    omega = np.linspace(0.0, math.pi, n // 2 + 1)
    response = (1 - alpha) / (1 - alpha * np.exp(-1j * omega))
    dark = np.fft.irfft(np.fft.rfft(noise[1]) * response, n) * 3.0
    decay = 6.91 / rt60  # ln(1000): amplitude falls by 60 dB over rt60
    ir = noise[0] * np.exp(-2 * decay * t) * 0.5 + dark * np.exp(-decay * t)
    predelay = int(round((0.008 + 0.017 * amount) * sr))
    ir[:predelay] = 0.0
    onset = min(n - 1, predelay)
    ramp = min(n - onset, int(0.02 * sr))  # the diffuse tail builds up over 20 ms
    ir[onset: onset + ramp] *= np.linspace(0.0, 1.0, ramp)
    for k, delay in enumerate((0.011, 0.017, 0.023, 0.031, 0.043, 0.057)):
        index = predelay + int(round(delay * (0.5 + amount) * sr))
        if index < n:
            ir[index] += (0.7 - 0.08 * k) * (1 if k % 2 == 0 else -1) * 4.0
    return ir / math.sqrt(float((ir ** 2).sum()))


def add_reverb(audio, amount: float, *, sr: int):
    """Add a room to mono audio: ``dry + WET_GAIN · amount · (dry ∗ impulse_response(amount))``.

    The output has the input's length (the tail past the end is cut, so render with a
    release tail, as :func:`render` does). ``amount = 0`` returns the input unchanged.
    The convolution is an FFT overlap-add in NumPy: importing ``scipy.signal`` alone
    would add about 0.8 s to the first render of a process.

    Parameters
    ----------
    audio : array-like
        Mono samples.
    amount : float
        0 (dry) to 1 (a long hall).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    numpy.ndarray
        float32, same length as ``audio`` (not peak-limited).

    Examples
    --------
    >>> import numpy as np
    >>> click = np.zeros(8000, dtype=np.float32); click[0] = 1.0
    >>> wet = add_reverb(click, 0.6, sr=8000)
    >>> bool(np.abs(wet[4000:]).max() > 0), bool(np.abs(add_reverb(click, 0.0, sr=8000)[1:]).max() == 0)
    (True, True)
    """
    import numpy as np

    amount = _check_reverb(amount)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise InputError(f"add_reverb needs mono audio (one dimension), got shape {audio.shape}")
    return _add_rooms(audio, [(0.0, amount)], int(_check_sr(sr)))


def _check_reverb(value, *, hint: str = "") -> float:
    """A reverb amount as a float in [0, 1], or an :class:`InputError` that names the range."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise InputError(f"reverb must be a number from 0 (dry) to 1 (a long hall){hint}, got {value!r}")
    return float(value)


def _add_rooms(audio, rooms, sr):
    """Convolve each stretch of constant reverb with its room and add it; tails ring on past changes."""
    import numpy as np

    n = len(audio)
    out = audio.astype(np.float64)
    bounds = [int(round(seconds * sr)) for seconds, _ in rooms[1:]] + [n]
    start = 0
    for (_, amount), end in zip(rooms, bounds):
        end = min(max(end, start), n)
        if amount > 0 and end > start:
            wet = _convolve(audio[start:end], _impulse_response(round(amount, 3), sr))
            stop = min(n, start + len(wet))
            out[start:stop] += WET_GAIN * amount * wet[: stop - start]
        start = end
    return out.astype(np.float32)


def _convolve(signal, ir):
    """Full linear convolution by FFT overlap-add in blocks (NumPy only: no SciPy import on the render path)."""
    import numpy as np

    signal = np.asarray(signal, dtype=np.float32)
    size = 1 << int(math.ceil(math.log2(max(2, 2 * len(ir)))))  # FFT length: at least twice the response
    block = size - len(ir) + 1
    spectrum = np.fft.rfft(ir.astype(np.float32), size)
    out = np.zeros(len(signal) + len(ir) - 1, dtype=np.float64)
    for start in range(0, len(signal), block):
        piece = signal[start: start + block]
        wet = np.fft.irfft(np.fft.rfft(piece, size) * spectrum, size)[: len(piece) + len(ir) - 1]
        out[start: start + len(wet)] += wet
    return out


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


# -- a click track: hear where the beats are -------------------------------------------------
#: Length in seconds of one click of :func:`click_track`.
CLICK_SECONDS = 0.04


def _check_sr(sr) -> int:
    import numpy as np

    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 192000:
        raise InputError(f"sr must be an integer sample rate between 8000 and 192000 Hz, got {sr!r}")
    return int(sr)


def _check_beats(beats):
    import numpy as np

    try:
        times = np.asarray(beats, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"beats must be a list or array of times in seconds (e.g. features.beats), not {type(beats).__name__}"
        ) from None
    if times.ndim != 1:
        raise InputError(f"beats must be one-dimensional (times in seconds), got shape {times.shape}")
    if not np.isfinite(times).all():
        raise InputError("beats contain NaN or infinite times; give finite times in seconds")
    if (times < 0).any():
        raise InputError(f"beat times must be >= 0 s, got {float(times.min()):g}")
    return times


def click_track(beats, duration: float, *, sr: int = 44100, level: float = 0.5, frequency: float = 1000.0,
                accent: int | None = None):
    """A metronome: one short click at each beat time, silence in between.

    Each click is a sine burst of ``frequency`` Hz, 40 ms long, with a 1 ms fade-in and an
    exponential decay (time constant 6 ms), so it is short enough to mark the beat without
    hiding the music. Mix it under a clip with :func:`mix_clicks` to *hear* whether a beat
    tracker (:func:`scoringkit.extract.audio_features`, ``.beats``) found the pulse.

    Parameters
    ----------
    beats : array_like of float, shape (n_beats,)
        Beat times in seconds (``features.beats``); times at or after ``duration`` are skipped.
    duration : float
        Length of the result in seconds (> 0).
    sr : int
        Sample rate in Hz (8,000-192,000).
    level : float
        Peak amplitude of a click, in (0, 1].
    frequency : float
        Pitch of a click in Hz (20 Hz up to ``sr / 2``).
    accent : int, optional
        Every ``accent``-th beat, starting with the first, clicks an octave higher
        (e.g. ``4`` for bars of four beats). Default: all clicks alike.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(round(duration * sr),)``, peak ``level`` (or 0 without beats).

    Raises
    ------
    InputError
        Beats that are not finite times >= 0; a duration, rate, level, frequency or accent
        out of range.

    Examples
    --------
    >>> clicks = click_track([0.0, 0.5, 1.0], 1.5, sr=8000)
    >>> clicks.shape, clicks.dtype
    ((12000,), dtype('float32'))
    >>> [round(float(abs(clicks[i:i + 320]).max()), 2) for i in (0, 4000, 8000)]   # a click at each beat
    [0.5, 0.5, 0.5]
    >>> float(abs(clicks[1000:3900]).max())                                          # silence between
    0.0
    """
    import numpy as np

    sr = _check_sr(sr)
    times = _check_beats(beats)
    if isinstance(duration, bool) or not isinstance(duration, (int, float, np.integer, np.floating)) \
            or not math.isfinite(duration) or duration <= 0:
        raise InputError(f"duration must be a positive number of seconds, got {duration!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level <= 1:
        raise InputError(f"level is the click's peak amplitude and must be in (0, 1], got {level!r}")
    if isinstance(frequency, bool) or not isinstance(frequency, (int, float, np.floating)) \
            or not 20 <= frequency < sr / 2:
        raise InputError(f"frequency must be between 20 Hz and sr / 2 = {sr / 2:g} Hz, got {frequency!r}")
    if accent is not None and (isinstance(accent, bool) or not isinstance(accent, (int, np.integer)) or accent < 1):
        raise InputError(f"accent must be a whole number of beats >= 1 (e.g. 4), or None, got {accent!r}")
    n = int(round(float(duration) * sr))
    out = np.zeros(n, dtype=np.float32)
    t = np.arange(int(CLICK_SECONDS * sr)) / sr
    envelope = np.minimum(1.0, t / 0.001) * np.exp(-t / 0.006)
    clicks = {}
    for pitch in (frequency, 2 * frequency):
        if pitch < sr / 2:
            burst = np.sin(2 * np.pi * pitch * t) * envelope
            clicks[pitch] = (level * burst / np.abs(burst).max()).astype(np.float32)
    for i, time in enumerate(times):
        start = int(round(time * sr))
        if start >= n:
            continue
        accented = accent is not None and i % accent == 0 and 2 * frequency in clicks
        click = clicks[2 * frequency if accented else frequency]
        end = min(n, start + len(click))
        out[start:end] += click[: end - start]
    np.clip(out, -1.0, 1.0, out=out)
    return out


def mix_clicks(audio, beats, *, sr: int, level: float = 0.5, **options):
    """Mix a :func:`click_track` on ``beats`` under mono audio: hear the beat grid.

    The clicks are added at ``level`` on top of the audio; the sum is scaled down (never
    up) only if it would peak above 0.98, as :func:`render` does, so the mix never clips.

    Parameters
    ----------
    audio : array_like of float, shape (n_samples,)
        Mono samples, e.g. from :func:`scoringkit.render`.
    beats : array_like of float
        Beat times in seconds (``features.beats``).
    sr : int
        Sample rate of ``audio`` in Hz.
    level : float
        Peak amplitude of a click, in (0, 1].
    **options
        ``frequency=`` and ``accent=`` of :func:`click_track`.

    Returns
    -------
    numpy.ndarray
        float32, the same length as ``audio``, finite, peak ≤ 0.98 where the sum would
        have exceeded it.

    Examples
    --------
    >>> import numpy as np
    >>> audio = np.full(8000, 0.25, dtype=np.float32)
    >>> mixed = mix_clicks(audio, [0.5], sr=8000)
    >>> mixed.shape, float(mixed[0]), round(float(mixed[4000:4100].max()), 2) > 0.25
    ((8000,), 0.25, True)
    """
    import numpy as np

    try:
        samples = np.asarray(audio, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"audio must be an array of samples, not {type(audio).__name__}") from None
    if samples.ndim != 1 or samples.size == 0:
        raise InputError(f"mix_clicks needs mono audio of shape (n_samples,), got shape {samples.shape}")
    if not np.isfinite(samples).all():
        raise InputError("the audio has NaN or infinite samples; clean it with numpy.nan_to_num(audio) first")
    sr = _check_sr(sr)
    mixed = samples + click_track(beats, samples.size / sr, sr=sr, level=level, **options)[: samples.size]
    peak = float(np.max(np.abs(mixed)))
    if peak > PEAK_LIMIT:
        mixed *= PEAK_LIMIT / peak
    return mixed.astype(np.float32, copy=False)
