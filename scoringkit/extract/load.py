"""Decode audio to mono samples at one rate: what a player or a plot needs.

:func:`scoringkit.extract.audio_features` never keeps the whole signal (it streams a file
in blocks and keeps only frame features). To *play* or *draw* a file you need its
samples: :func:`load_audio` decodes a file, its bytes or an array with the same readers
and the same checks (so the same clear messages for missing, corrupt, empty or overlong
input), mixes the channels down to mono and resamples to one rate with `soxr`.

Examples
--------
>>> import io, wave
>>> import numpy as np
>>> from scoringkit.extract.load import load_audio
>>> pcm = (0.5 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100) * 32767).astype("<i2")
>>> buffer = io.BytesIO()
>>> with wave.open(buffer, "wb") as w:
...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(44100); w.writeframes(pcm.tobytes())
>>> samples, sr = load_audio(buffer.getvalue(), sr=22050)
>>> sr, samples.dtype, abs(len(samples) - 22050) <= 1
(22050, dtype('float32'), True)
"""

from __future__ import annotations

from ..errors import InputError
from .audio import ANALYSIS_SR, MAX_DURATION, _check_rate, _open_source

__all__ = ["load_audio"]


def load_audio(path_or_array, *, sr: int = ANALYSIS_SR, source_sr=None, max_duration: float | None = MAX_DURATION,
               max_seconds: float | None = None):
    """Read audio as mono float32 samples at ``sr``.

    Parameters
    ----------
    path_or_array : str, Path, bytes, file object or array_like
        What :func:`scoringkit.extract.audio_features` accepts: an audio file (WAV, FLAC,
        OGG, MP3, AIFF, ...), its bytes, an open binary file, or samples (``(n,)``,
        ``(n, channels)`` or ``(channels, n)``; they need ``source_sr``).
    sr : int
        Sample rate of the result in Hz (8,000-48,000).
    source_sr : float, optional
        Sample rate of an array (required for arrays; a file's rate is read from the file).
    max_duration : float or None
        Refuse input longer than this many seconds (default 600), as ``audio_features`` does.
    max_seconds : float, optional
        Keep only the first ``max_seconds`` seconds (stop decoding there): a preview of a
        long file. Default: everything.

    Returns
    -------
    (numpy.ndarray, int)
        The samples (float32, shape ``(n,)``, the mean of the channels) and ``sr``.

    Raises
    ------
    InputError
        Missing, unreadable, corrupt, empty or overlong input; an array without
        ``source_sr``; a bad ``sr`` or ``max_seconds``.
    """
    import numpy as np

    sr = _check_rate("sr", sr, 8000, 48000, integer=True)
    if max_seconds is not None:
        if isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float)) or not max_seconds > 0:
            raise InputError(f"max_seconds must be a positive number of seconds or None, not {max_seconds!r}")
    if max_duration is not None:
        if isinstance(max_duration, bool) or not isinstance(max_duration, (int, float)) or not max_duration > 0:
            raise InputError(f"max_duration must be a positive number of seconds or None, not {max_duration!r}")
    source = _open_source(path_or_array, source_sr, max_duration)
    limit = None if max_seconds is None else int(round(max_seconds * source.sr))
    parts, taken = [], 0
    try:
        for block in source.blocks():
            if limit is not None and taken + len(block) > limit:
                block = block[: limit - taken]
            parts.append(block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0].copy())
            taken += len(block)
            if limit is not None and taken >= limit:
                break
    finally:
        source.close()
    mono = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    if mono.size == 0:
        raise InputError(f"{source.name} contains no samples (if it should, it is truncated or corrupt)")
    if source.sr != sr:
        import soxr

        mono = soxr.resample(mono, float(source.sr), float(sr), quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32), sr
