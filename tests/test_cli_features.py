import json

import numpy as np
import pytest
import soundfile as sf

import scoringkit as sk
from scoringkit.cli import main

SR = 22050


def pulse_score(bpm=120):
    chord = lambda b: (48, 60, 64, 67) if b % 4 == 0 else (60, 64, 67)  # noqa: E731
    return sk.Score([sk.Track("piano", 0, [sk.Note(p, b, 0.5, 90) for b in range(16) for p in chord(b)])], tempo=bpm)


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "pulse.wav"
    sf.write(path, sk.render(pulse_score(), sr=SR, synth="numpy"), SR)
    return path


def test_features_prints_tempo_key_and_loudness(wav, capsys):
    assert main(["features", str(wav)]) == 0
    out = capsys.readouterr().out
    assert "tempo         120.0 BPM" in out and "key           C major" in out
    assert "LUFS integrated" in out and "onsets" in out and "spectral centroid" in out


def test_features_json_holds_facts_and_the_summary_vector(wav, capsys):
    assert main(["features", str(wav), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "audio" and data["tempo"] == pytest.approx(120, rel=0.04) and data["key"] == "C major"
    assert data["n_channels"] == 1 and data["source_sr"] == SR and len(data["beats"]) == data["n_beats"] >= 14
    assert data["summary"]["tempo"] == pytest.approx(data["tempo"], abs=0.01) and len(data["summary"]) > 80


def test_features_of_a_midi_file(tmp_path, capsys):
    path = tmp_path / "pulse.mid"
    pulse_score(90).to_midi(path)
    assert main(["features", str(path)]) == 0
    out = capsys.readouterr().out
    assert "90.0 BPM in the file" in out and "C major" in out and "polyphony" in out
    assert main(["features", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "midi" and data["tempo_estimate"] == pytest.approx(90, rel=0.04) and data["n_notes"] == 52


def test_silence_is_reported_not_an_error(tmp_path, capsys):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(2 * SR), SR)
    assert main(["features", str(path)]) == 0
    out = capsys.readouterr().out
    assert "none (no steady pulse)" in out and "key           none" in out and "silent" in out


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.wav", "no such audio file"),
    (lambda d: (d / "bad.wav").write_bytes(b"not audio at all") and d / "bad.wav", "cannot read"),
    (lambda d: (d / "bad.mid").write_bytes(b"not midi") and d / "bad.mid", "not a readable MIDI file"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, make, message):
    assert main(["features", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_max_duration_refuses_and_zero_lifts_the_limit(wav, capsys):
    assert main(["features", str(wav), "--max-duration", "1"]) == 2
    assert "--max-duration 0" in capsys.readouterr().err
    assert main(["features", str(wav), "--max-duration", "0"]) == 0
    assert main(["features", str(wav), "--max-duration", "-5"]) == 2
    assert ">= 0" in capsys.readouterr().err
