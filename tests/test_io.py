import json

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.io import atomic_write, read_text_file, write_wav


def test_midi_round_trip_keeps_notes_tempo_key_programs(tmp_path, tiny_score):
    path = tmp_path / "t.mid"
    tiny_score.to_midi(path)
    back = sk.Score.from_midi(path)
    assert back.tempo == pytest.approx(120, abs=0.01)
    assert back.key == "D major"
    assert sorted(t.program for t in back.tracks) == [33, 73]
    original = sorted((n.pitch, n.start, n.duration, n.velocity) for _, n in tiny_score.notes())
    restored = sorted((n.pitch, n.start, n.duration, n.velocity) for _, n in back.notes())
    assert original == restored


def test_midi_round_trip_keeps_tempo_and_program_changes(tmp_path):
    track = sk.Track("lead", 0, [sk.Note(60, 0, 1), sk.Note(62, 4, 1)], program_changes=[(4.0, 40)])
    score = sk.Score([track], tempo_map=[(0, 90), (4, 140)], key_map=[(0, "C major"), (4, "A minor")])
    score.to_midi(tmp_path / "c.mid")
    back = sk.Score.from_midi(tmp_path / "c.mid")
    assert [round(b, 3) for b, _ in back.tempo_map] == [0, 4]
    assert back.key_map[1] == (4.0, "A minor")
    assert back.tracks[0].program_at(5) == 40 and back.tracks[0].program_at(1) == 0


def test_pretty_midi_and_music21_converters(tiny_score):
    pm = tiny_score.to_pretty_midi()
    assert sum(len(i.notes) for i in pm.instruments) == 3
    assert pm.get_end_time() == pytest.approx(1.0, abs=1e-3)
    m21 = tiny_score.to_music21()
    assert len(m21.parts) == 2
    assert [p.nameWithOctave for p in m21.parts[0].flatten().pitches][:2] == ["C5", "D5"]


def test_musicxml_written_and_readable(tmp_path, tiny_score):
    import music21

    path = tiny_score.to_musicxml(tmp_path / "t.musicxml")
    parsed = music21.converter.parse(path)
    assert len(list(parsed.recurse().notes)) == 3


@pytest.mark.parametrize("payload", [b"", b"MThd garbage", b"\x00\x01\x02" * 100])
def test_malformed_midi_is_an_input_error(tmp_path, payload):
    path = tmp_path / "bad.mid"
    path.write_bytes(payload)
    with pytest.raises(sk.InputError, match="MIDI"):
        sk.Score.from_midi(path)


def test_missing_midi_is_an_input_error(tmp_path):
    with pytest.raises(sk.InputError, match="no such"):
        sk.Score.from_midi(tmp_path / "nope.mid")


def test_writers_refuse_to_overwrite_and_keep_the_old_file(tmp_path, tiny_score):
    path = tmp_path / "keep.mid"
    path.write_bytes(b"precious")
    with pytest.raises(sk.InputError, match="refusing to overwrite"):
        tiny_score.to_midi(path)
    assert path.read_bytes() == b"precious"
    tiny_score.to_midi(path, overwrite=True)
    assert path.read_bytes()[:4] == b"MThd"


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path):
    def explode(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "x.bin", explode)
    assert list(tmp_path.iterdir()) == []


def test_wav_is_16_bit_and_rejects_nan(tmp_path):
    import wave

    path = write_wav(tmp_path / "a.wav", np.linspace(-1, 1, 1000, dtype=np.float32), sr=8000)
    with wave.open(str(path)) as w:
        assert (w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 8000, 1000)
    with pytest.raises(sk.RenderError):
        write_wav(tmp_path / "b.wav", np.array([0.0, np.nan]))


def test_read_text_file_errors(tmp_path):
    with pytest.raises(sk.InputError, match="no such file"):
        read_text_file(tmp_path / "missing.txt")
    bad = tmp_path / "latin.txt"
    bad.write_bytes("Café déjà vu".encode("latin-1"))
    with pytest.raises(sk.InputError, match="UTF-8"):
        read_text_file(bad)
    assert read_text_file(bad, encoding="latin-1") == "Café déjà vu"
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 1_000_000)  # 5 MB
    with pytest.raises(sk.InputError, match="MB"):
        read_text_file(big)
    with pytest.raises(sk.InputError, match="folder"):
        read_text_file(tmp_path)
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffHello".encode("utf-8"))
    assert read_text_file(bom) == "Hello"


def test_soundtrack_write_makes_five_files_and_refuses_existing(tmp_path, example_soundtrack):
    paths = example_soundtrack.write(tmp_path / "out", synth="numpy", sr=8000)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["soundtrack.wav", "soundtrack.mid", "soundtrack.musicxml", "cues.csv", "cues.json"])
    sheet = json.loads(paths["json"].read_text())
    assert len(sheet["cues"]) == len(example_soundtrack.cues)
    for field in ("start", "end", "scene", "valence", "arousal", "quadrant", "tempo", "key", "mode"):
        assert field in sheet["cues"][0]
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    with pytest.raises(sk.InputError, match="refusing"):
        example_soundtrack.write(tmp_path / "out", synth="numpy", sr=8000)
    assert before == {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}


def test_soundtrack_write_refuses_a_file_as_folder(tmp_path, example_soundtrack):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(sk.InputError, match="not a folder"):
        example_soundtrack.write(target)
