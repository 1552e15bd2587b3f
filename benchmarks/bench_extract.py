"""Benchmark the extract stage: first-call cost, warm speed, real-time factor, memory.

Run with ``.venv/bin/python benchmarks/bench_extract.py`` (``--quick`` skips the one-hour
file, ``--no-librosa`` the librosa comparison). Prints a Markdown table for the README.

* first call: ``audio_features`` on a file in a fresh process, imports included; the
  *extra* cost is that minus a warm call on the same file.
* warm call: median of ``--repeat`` calls in one process; real-time factor = audio
  seconds / wall seconds.
* librosa (for comparison): the same features computed with librosa 0.11's own functions
  (``load``, ``melspectrogram``, ``mfcc``, ``delta``, ``chroma_stft``, spectral
  centroid / contrast / rolloff, ``rms``, ``onset_detect``, ``beat_track``), first call
  with an empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new folder), first call
  with that cache filled, and warm.
* one hour: a 44.1 kHz stereo 16-bit WAV (a rendered minute repeated), analysed with
  ``max_duration=None``; peak memory is the process's peak RSS (``VmHWM``) minus its RSS
  after a warm-up call, in a fresh process (Linux ``/proc``; elsewhere tracemalloc).

No timing is asserted anywhere (machines differ); the tests check correctness only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_time  # benchmarks/timing.py (this folder is on sys.path)

LIBROSA_PIPELINE = """
import librosa, numpy as np

def run(path):
    y, sr = librosa.load(path, sr=22050, mono=True)
    S = librosa.feature.melspectrogram(y=y, sr=sr)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(S), n_mfcc=20)
    librosa.feature.delta(mfcc); librosa.feature.delta(mfcc, order=2)
    librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)
    librosa.feature.spectral_centroid(y=y, sr=sr); librosa.feature.spectral_contrast(y=y, sr=sr)
    librosa.feature.spectral_rolloff(y=y, sr=sr); librosa.feature.rms(y=y)
    env = librosa.onset.onset_strength(y=y, sr=sr)
    librosa.onset.onset_detect(onset_envelope=env, sr=sr)
    return librosa.beat.beat_track(onset_envelope=env, sr=sr)
"""


# Peak memory of a fresh process: VmHWM - VmRSS from /proc (Linux). Not ru_maxrss, which
# Linux carries over from the parent process across exec; tracemalloc where /proc is missing.
MEMORY_PROBE = """
import os, tracemalloc
def _status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
def start():
    if os.path.exists('/proc/self/status'):
        return _status('VmRSS')
    tracemalloc.start()
    return 0.0
def peak_growth(base):
    if os.path.exists('/proc/self/status'):
        return max(0.0, _status('VmHWM') - base)
    return tracemalloc.get_traced_memory()[1] / 1e6
"""


def fresh(code: str, env=None) -> str:
    """Run ``code`` in a new interpreter and return its stdout."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if result.returncode:
        raise SystemExit(f"benchmark subprocess failed:\n{result.stderr}")
    return result.stdout.strip()


def write_long_wav(path: Path, minute, minutes: int):
    import soundfile as sf

    stereo = (minute[:, None] * [1.0, 0.8]).astype("float32")
    with sf.SoundFile(path, "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        for _ in range(minutes):
            out.write(stereo)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip the one-hour file")
    parser.add_argument("--no-librosa", action="store_true", help="skip the librosa comparison")
    parser.add_argument("--long-minutes", type=int, default=60)
    args = parser.parse_args()

    import numpy as np
    import soundfile as sf

    import scoringkit as sk
    from scoringkit.extract import audio_features

    tmp = Path(tempfile.mkdtemp(prefix="bench_extract_"))
    score = sk.compose(sk.Emotion(0.5, 0.6), duration=58, seed=0)
    minute = sk.render(score, sr=44100, synth="numpy")[: 60 * 44100]
    minute = np.pad(minute, (0, 60 * 44100 - len(minute)))
    stereo_wav = tmp / "minute_stereo.wav"
    sf.write(stereo_wav, np.stack([minute, 0.8 * minute], axis=1), 44100, subtype="PCM_16")
    mono22 = sk.render(score, sr=22050, synth="numpy")[: 60 * 22050]
    seconds = 60.0

    rows = []
    first_call = fresh(
        "import time; t = time.perf_counter(); from scoringkit.extract import audio_features; "
        f"audio_features({str(stereo_wav)!r}); print(time.perf_counter() - t)")
    first_import = fresh(
        "import time; t = time.perf_counter(); import scoringkit.extract; print(time.perf_counter() - t)")
    audio_features(stereo_wav)  # warm this process
    warm_file = median_time(lambda: audio_features(stereo_wav), args.repeat)
    warm_array = median_time(lambda: audio_features(mono22, sr=22050), args.repeat)
    warm_lean = median_time(lambda: audio_features(stereo_wav, frames=False), args.repeat)
    first = float(first_call)
    rows += [
        ("`import scoringkit.extract` (fresh process)", f"{float(first_import) * 1000:.0f} ms", ""),
        ("first call, fresh process, 60 s stereo 44.1 kHz WAV (imports included)", f"{first:.2f} s", ""),
        ("extra cost of the first call (first - warm)", f"{first - warm_file:.2f} s", "target <= 2 s"),
        ("warm call, 60 s stereo 44.1 kHz WAV", f"{warm_file:.3f} s", f"{seconds / warm_file:.0f}x real time"),
        ("warm call, 60 s stereo 44.1 kHz WAV, `frames=False`", f"{warm_lean:.3f} s", f"{seconds / warm_lean:.0f}x real time"),
        ("warm call, 60 s mono 22.05 kHz array", f"{warm_array:.3f} s", f"{seconds / warm_array:.0f}x real time"),
    ]

    if not args.no_librosa:
        cache = tempfile.mkdtemp(prefix="numba_cache_")
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        code = ("import time; t = time.perf_counter()\n" + LIBROSA_PIPELINE +
                f"run({str(stereo_wav)!r}); first = time.perf_counter() - t\n"
                "t = time.perf_counter()\n"
                f"for _ in range({args.repeat}): run({str(stereo_wav)!r})\n"
                f"print(first, (time.perf_counter() - t) / {args.repeat})")
        cold_empty, warm_lib = map(float, fresh(code, env).split())
        cold_cached, _ = map(float, fresh(code, env).split())
        rows += [
            ("librosa equivalent: first call, empty numba cache", f"{cold_empty:.2f} s", ""),
            ("librosa equivalent: first call, numba cache filled (`NUMBA_CACHE_DIR`)", f"{cold_cached:.2f} s", ""),
            ("librosa equivalent: warm call, 60 s stereo 44.1 kHz WAV", f"{warm_lib:.3f} s", f"{seconds / warm_lib:.0f}x real time"),
        ]

    if not args.quick:
        long_wav = tmp / "long.wav"
        write_long_wav(long_wav, minute, args.long_minutes)
        hours = args.long_minutes / 60
        decoded_mb = args.long_minutes * 60 * 44100 * 2 * 4 / 1e6
        for frames in (True, False):
            code = MEMORY_PROBE + (
                "import time, numpy as np\n"
                "from scoringkit.extract import audio_features\n"
                "audio_features(np.zeros(22050), sr=22050)\n"
                "base = start()\n"
                "t = time.perf_counter()\n"
                f"f = audio_features({str(long_wav)!r}, max_duration=None, frames={frames})\n"
                "print(time.perf_counter() - t, peak_growth(base))")
            took, peak_mb = map(float, fresh(code).split())
            rows.append((f"{args.long_minutes} min stereo 44.1 kHz WAV, `max_duration=None, frames={frames}`",
                         f"{took:.1f} s, peak RSS +{peak_mb:.0f} MB",
                         f"{args.long_minutes * 60 / took:.0f}x real time (decoded: {decoded_mb:.0f} MB)"))
        try:
            audio_features(long_wav)
        except sk.InputError as err:
            rows.append((f"{args.long_minutes} min file with the default `max_duration=600`", "refused up front",
                         f"`{str(err)[str(err).index('is '):][:60]}...`"))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {load:.1f} when started; "
          f"median of {args.repeat} runs; clip: a rendered 60 s cue\n")
    print("| measurement | value | note |")
    print("|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
