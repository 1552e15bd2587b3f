"""Files in and out: text, MIDI, MusicXML, WAV and cue sheets.

Every writer here is *safe*: it refuses to replace an existing file unless asked
(``overwrite=True``) and writes to a temporary file in the same folder first, then
renames it into place, so an interrupted write never leaves half a file behind.

Examples
--------
>>> import tempfile, pathlib
>>> from scoringkit.types import Score, Track, Note
>>> out = pathlib.Path(tempfile.mkdtemp()) / "tiny.mid"
>>> _ = Score([Track("p", 0, [Note(60, 0, 1)])]).to_midi(out)
>>> Score.from_midi(out).n_notes
1
"""

from __future__ import annotations

import csv
import io as _stdio
import json
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path

from .errors import InputError, RenderError
from .types import Note, Score, Track, key_name, parse_key

__all__ = [
    "read_text_file",
    "atomic_write",
    "check_writable",
    "write_wav",
    "score_to_midi",
    "score_from_midi",
    "score_to_pretty_midi",
    "score_to_music21",
    "score_to_musicxml",
    "write_soundtrack",
]

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
#: General MIDI controller for the reverb send level (0-127).
REVERB_CONTROLLER = 91
#: Largest text file :func:`read_text_file` accepts by default (bytes).
MAX_TEXT_BYTES = 2_000_000


# -- reading text -------------------------------------------------------------------------
def read_text_file(path, *, encoding: str = "utf-8", max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Read a story file as text, with clear errors for the usual problems.

    Parameters
    ----------
    path : str or Path
    encoding : str
        Text encoding; a UTF-8 byte-order mark is accepted.
    max_bytes : int
        Refuse files larger than this (default 2 MB, a long novel); raise it to read more.

    Examples
    --------
    >>> from scoringkit.assets import example_story_path
    >>> read_text_file(example_story_path()).startswith("The Lighthouse Keeper")
    True
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {str(p)!r}; check the path (relative paths start at {os.getcwd()!r})")
    if p.is_dir():
        raise InputError(f"{str(p)!r} is a folder; give the path of a text file inside it")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{str(p)!r} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit for one story; "
            "split it into chapters and score them one by one, or pass a larger max_bytes"
        )
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{str(p)!r} is not valid {encoding} text (bad byte at position {err.start}); "
            "save it as UTF-8, or pass its encoding (e.g. encoding='latin-1' / --encoding latin-1)"
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}; try 'utf-8' or 'latin-1'") from None
    return text


# -- safe writing -------------------------------------------------------------------------
def check_writable(paths, *, overwrite: bool) -> None:
    """Raise :class:`InputError` if any of ``paths`` exists and ``overwrite`` is False."""
    existing = [str(p) for p in map(Path, paths) if p.exists()]
    if existing and not overwrite:
        raise InputError(
            f"refusing to overwrite existing file(s): {', '.join(existing)}; "
            "choose another output folder, delete them, or pass overwrite=True (--force on the command line)"
        )


def atomic_write(path, write, *, overwrite: bool = False, binary: bool = True) -> Path:
    """Write a file via a temporary sibling and an atomic rename.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        Called with an open file object (binary unless ``binary=False``) to fill.
    overwrite : bool
        Replace an existing file; otherwise an existing file raises :class:`InputError`.

    Returns
    -------
    Path
        The destination.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(target, lambda f: f.write("hi"), binary=False).read_text()
    'hi'
    """
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as f:
            write(f)
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_wav(path, audio, *, sr: int = 44100, overwrite: bool = False) -> Path:
    """Write float audio in [-1, 1] (mono ``(n,)`` or stereo ``(n, 2)``) as 16-bit PCM WAV.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> p = write_wav(pathlib.Path(tempfile.mkdtemp()) / "a.wav", np.zeros(100, np.float32))
    >>> p.stat().st_size > 44
    True
    """
    import wave

    import numpy as np

    data = np.asarray(audio, dtype=np.float64)
    if data.ndim not in (1, 2) or (data.ndim == 2 and data.shape[1] not in (1, 2)):
        raise RenderError(f"audio must have shape (n,) or (n, 2), got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise RenderError("audio contains NaN or infinite samples; refusing to write it")
    channels = 1 if data.ndim == 1 else data.shape[1]
    pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")

    def fill(f):
        with wave.open(f, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(int(sr))
            w.writeframes(pcm.tobytes())

    return atomic_write(path, fill, overwrite=overwrite)


# -- MIDI ---------------------------------------------------------------------------------
def _mido_key(name: str) -> str:
    tonic, mode = key_name(*parse_key(name)).split()  # canonical spelling, e.g. "Bb major"
    return tonic if mode == "major" else tonic + "m"


def _assign_channels(tracks) -> list[int]:
    channels, next_channel = [], 0
    for track in tracks:
        if track.is_drum:
            channels.append(DRUM_CHANNEL)
            continue
        channels.append(next_channel)
        next_channel = (next_channel + 1) % 16
        if next_channel == DRUM_CHANNEL:
            next_channel += 1
    return channels


def score_to_midi(score: Score, path=None, *, overwrite: bool = False):
    """Convert a :class:`Score` to a type-1 ``mido.MidiFile`` (and write it if ``path`` is given).

    Track 0 carries tempo, key and time signature; each :class:`Track` gets its own MIDI
    track and channel (drums on channel 10). More than 15 pitched tracks share channels.
    A score with reverb sends General MIDI controller 91 (reverb send level,
    ``round(amount * 127)``) on every channel at each change of its reverb map.
    """
    import mido

    def tick(beat: float) -> int:
        return int(round(beat * TICKS_PER_BEAT))

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = [(0, 0, mido.MetaMessage("time_signature", numerator=score.meter[0], denominator=score.meter[1]))]
    conductor += [(tick(b), 1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for b, bpm in score.tempo_map]
    conductor += [(tick(b), 2, mido.MetaMessage("key_signature", key=_mido_key(k))) for b, k in score.key_map]
    midi.tracks.append(_to_delta_track(conductor, "conductor"))
    wet = any(amount > 0 for _, amount in score.reverb_map)
    for track, channel in zip(score.tracks, _assign_channels(score.tracks)):
        events = []
        if wet:
            events += [(tick(b), 0, mido.Message("control_change", channel=channel, control=REVERB_CONTROLLER,
                                                 value=int(round(amount * 127)))) for b, amount in score.reverb_map]
        if not track.is_drum:
            events.append((0, 0, mido.Message("program_change", channel=channel, program=track.program)))
            events += [
                (tick(b), 0, mido.Message("program_change", channel=channel, program=int(p)))
                for b, p in track.program_changes
            ]
        for note in track.notes:
            on, off = tick(note.start), max(tick(note.end), tick(note.start) + 1)
            # at equal ticks: program changes (0) before note-offs (1) before note-ons (2)
            events.append((off, 1, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
            events.append((on, 2, mido.Message("note_on", channel=channel, note=note.pitch, velocity=note.velocity)))
        midi.tracks.append(_to_delta_track(events, track.name))
    if path is not None:
        atomic_write(path, lambda f: midi.save(file=f), overwrite=overwrite)
    return midi


def _to_delta_track(events, name):
    import mido

    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for at, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=at - now))
        now = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def score_from_midi(path_or_file) -> Score:
    """Read a Standard MIDI File into a :class:`Score`.

    Accepts a path, ``bytes`` or a binary file object. One :class:`Track` is made per
    (MIDI track, channel) that holds notes; tempo, key and time-signature events become
    the score's maps. Unmatched note-ons are ended at the end of their track.

    Raises
    ------
    InputError
        If the file is missing or is not a readable MIDI file.
    """
    import mido

    try:
        if isinstance(path_or_file, (bytes, bytearray)):
            midi = mido.MidiFile(file=_stdio.BytesIO(path_or_file))
        elif hasattr(path_or_file, "read"):
            midi = mido.MidiFile(file=path_or_file)
        else:
            p = Path(path_or_file)
            if not p.is_file():
                raise InputError(f"no such MIDI file: {str(p)!r}; check the path")
            midi = mido.MidiFile(p)
    except InputError:
        raise
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as err:
        raise InputError(f"not a readable MIDI file ({err}); check that it is a Standard MIDI File (.mid)") from None
    if midi.type == 2:
        raise InputError("MIDI type 2 (independent sequences) is not supported; convert it to type 0 or 1")
    tpb = midi.ticks_per_beat or TICKS_PER_BEAT
    tempo_map, key_map, reverb_map, meter = [], [], [], None
    tracks: dict = {}
    for t_index, mtrack in enumerate(midi.tracks):
        now, name = 0, None
        open_notes: dict = {}
        programs: dict = {}
        for msg in mtrack:
            now += msg.time
            beat = now / tpb
            if msg.type == "set_tempo":
                tempo_map.append((beat, round(mido.tempo2bpm(msg.tempo), 6)))
            elif msg.type == "key_signature":
                key_map.append((beat, _key_from_mido(msg.key)))
            elif msg.type == "time_signature" and meter is None:
                meter = (msg.numerator, msg.denominator)
            elif msg.type == "track_name":
                name = msg.name
            elif msg.type == "control_change" and msg.control == REVERB_CONTROLLER:
                reverb_map.append((beat, round(msg.value / 127, 3)))
            elif msg.type == "program_change":
                entry = tracks.get((t_index, msg.channel))
                if entry is not None and entry["notes"]:
                    entry["changes"].append((beat, msg.program))
                else:
                    programs[msg.channel] = msg.program
            elif msg.type in ("note_on", "note_off"):
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    open_notes.setdefault(key, []).append((beat, msg.velocity))
                elif open_notes.get(key):
                    start, velocity = open_notes[key].pop(0)
                    _add_note(tracks, t_index, msg.channel, name, programs, msg.note, start, beat - start, velocity)
        for (channel, pitch), starts in open_notes.items():
            for start, velocity in starts:
                _add_note(tracks, t_index, channel, name, programs, pitch, start, now / tpb - start, velocity)
    result = []
    for (t_index, channel), entry in sorted(tracks.items()):
        result.append(
            Track(entry["name"], entry["program"], sorted(entry["notes"], key=lambda n: (n.start, n.pitch)),
                  is_drum=channel == DRUM_CHANNEL, program_changes=entry["changes"])
        )
    tempo_map = _dedupe_map(tempo_map) or [(0.0, 120.0)]
    key_map = _dedupe_map(key_map) or [(0.0, "C major")]
    tempo_map[0] = (0.0, tempo_map[0][1])
    key_map[0] = (0.0, key_map[0][1])
    reverb_map = _dedupe_map(reverb_map)
    if reverb_map and reverb_map[0][0] > 0:
        reverb_map.insert(0, (0.0, 0.0))
    return Score(result, meter=meter or (4, 4), tempo_map=tempo_map, key_map=key_map, reverb_map=reverb_map or None)


def _add_note(tracks, t_index, channel, name, programs, pitch, start, length, velocity):
    entry = tracks.setdefault(
        (t_index, channel),
        {"name": name or f"track {t_index} ch {channel + 1}", "program": programs.get(channel, 0), "notes": [], "changes": []},
    )
    entry["notes"].append(Note(pitch, start, max(length, 1.0 / TICKS_PER_BEAT), velocity))


def _dedupe_map(entries):
    out = []
    for beat, value in sorted(entries, key=lambda e: e[0]):
        if out and math.isclose(out[-1][0], beat):
            out[-1] = (beat, value)
        elif not out or out[-1][1] != value:
            out.append((beat, value))
    return out


def _key_from_mido(key: str) -> str:
    if key.endswith("m"):
        return f"{key[:-1]} minor"
    return f"{key} major"


def score_to_pretty_midi(score: Score):
    """Convert to ``pretty_midi.PrettyMIDI`` through an in-memory MIDI file (keeps the tempo map)."""
    import pretty_midi

    buffer = _stdio.BytesIO()
    score_to_midi(score).save(file=buffer)
    buffer.seek(0)
    return pretty_midi.PrettyMIDI(buffer)


# -- music21 / MusicXML -------------------------------------------------------------------
_GRID = 12  # quantise to 1/12 beat: covers sixteenths and eighth-note triplets


def _q(beats: float) -> Fraction:
    return Fraction(round(beats * _GRID), _GRID)


def score_to_music21(score: Score):
    """Convert to a ``music21.stream.Score`` with one part per pitched track.

    Onsets and lengths are quantised to 1/12 beat (sixteenths and triplets). Notes that
    start together with the same length become chords; drum tracks are left out of
    the notation (they stay in MIDI and audio).
    """
    from music21 import chord, instrument, key, meter, note, stream, tempo

    m21 = stream.Score()
    for index, track in enumerate(t for t in score.tracks if not t.is_drum):
        part = stream.Part()
        part.partName = track.name
        part.insert(0, _m21_instrument(instrument, track.program, track.name))
        for beat, program in track.program_changes:
            part.insert(float(_q(beat)), _m21_instrument(instrument, program, track.name))
        if index == 0:
            part.insert(0, meter.TimeSignature(f"{score.meter[0]}/{score.meter[1]}"))
            for beat, bpm in score.tempo_map:
                part.insert(float(_q(beat)), tempo.MetronomeMark(number=round(bpm, 1)))
        for beat, name in score.key_map:
            tonic, mode = name.split()
            part.insert(float(_q(beat)), key.Key(tonic[0] + tonic[1:].replace("b", "-"), mode))
        groups: dict = {}
        for n in track.notes:
            length = max(_q(n.duration), Fraction(1, _GRID))
            groups.setdefault((_q(n.start), length), []).append(n)
        for (start, length), members in sorted(groups.items()):
            if len(members) == 1:
                element = note.Note(members[0].pitch)
            else:
                element = chord.Chord(sorted({m.pitch for m in members}))
            element.quarterLength = length
            element.volume.velocity = max(m.velocity for m in members)
            part.insert(start, element)
        m21.insert(0, part)
    return m21


def _m21_instrument(instrument_module, program: int, name: str):
    try:
        inst = instrument_module.instrumentFromMidiProgram(program)
    except Exception:  # music21 lacks a class for a few GM programs
        inst = instrument_module.Instrument()
        inst.midiProgram = program
    inst.partName = name
    return inst


def score_to_musicxml(score: Score, path, *, overwrite: bool = False) -> Path:
    """Write the score as MusicXML (via music21), atomically."""
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    stream = score_to_music21(score)
    with tempfile.TemporaryDirectory() as tmp:
        written = Path(stream.write("musicxml", fp=Path(tmp) / "score.musicxml"))
        data = written.read_bytes()
    return atomic_write(path, lambda f: f.write(data), overwrite=overwrite)


# -- soundtrack ---------------------------------------------------------------------------
SOUNDTRACK_FILES = {
    "wav": "soundtrack.wav",
    "midi": "soundtrack.mid",
    "musicxml": "soundtrack.musicxml",
    "csv": "cues.csv",
    "json": "cues.json",
}


def write_soundtrack(soundtrack, out_dir, *, overwrite: bool = False, sr: int = 44100, synth: str = "auto",
                     progress: bool = False) -> dict:
    """Write a :class:`~scoringkit.types.Soundtrack`'s five files into ``out_dir``.

    Checks every destination first, so a refusal leaves the folder untouched.
    ``progress=True`` shows a bar over the steps (rendering and MusicXML take seconds).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{str(out)!r} exists and is not a folder; give a folder path for the output")
    paths = {kind: out / name for kind, name in SOUNDTRACK_FILES.items()}
    check_writable(paths.values(), overwrite=overwrite)
    rows = soundtrack.cue_sheet()
    steps = [
        ("render audio", lambda: write_wav(paths["wav"], soundtrack.render(sr=sr, synth=synth), sr=sr, overwrite=overwrite)),
        ("write MIDI", lambda: score_to_midi(soundtrack.score, paths["midi"], overwrite=overwrite)),
        ("write MusicXML", lambda: score_to_musicxml(soundtrack.score, paths["musicxml"], overwrite=overwrite)),
        ("write cue sheet", lambda: _write_cue_sheet(soundtrack, rows, paths, sr, overwrite)),
    ]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(steps), desc="writing", unit="step")
    for name, step in steps:
        if bar is not None:
            bar.set_postfix_str(name)
        step()
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return paths


def _write_cue_sheet(soundtrack, rows, paths, sr, overwrite):

    def fill_csv(f):
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["cue"])
        writer.writeheader()
        writer.writerows(rows)

    atomic_write(paths["csv"], fill_csv, overwrite=overwrite, binary=False)
    sheet = {"title": soundtrack.title, "duration": round(soundtrack.duration, 3), "sample_rate": sr,
             "transition": getattr(soundtrack, "transition", "cut"), "crossfade": getattr(soundtrack, "crossfade", 0.0),
             "cues": rows}
    atomic_write(paths["json"], lambda f: json.dump(sheet, f, indent=2, ensure_ascii=False), overwrite=overwrite, binary=False)
