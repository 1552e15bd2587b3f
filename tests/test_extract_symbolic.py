import json

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.extract import SYMBOLIC_FEATURE_NAMES, SymbolicFeatures, audio_features, symbolic_features

C_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]
A_MINOR = [(45, 57, 60, 64), (50, 57, 62, 65), (52, 56, 59, 64), (45, 57, 60, 64)]  # i iv V i


def line(pitches, *, length=1.0, step=1.0, velocity=80, tempo=120, program=0):
    notes = [sk.Note(p, i * step, length, velocity) for i, p in enumerate(pitches)]
    return sk.Score([sk.Track("line", program, notes)], tempo=tempo)


def chords(progression, *, tempo=120, beats=2):
    notes = [sk.Note(p, beats * i, beats, 80) for i, chord in enumerate(progression) for p in chord]
    return sk.Score([sk.Track("piano", 0, notes)], tempo=tempo)


def drums(beats=16, tempo=120):
    return sk.Track("drums", 0, [sk.Note(36, b, 0.25, 100) for b in range(beats)], is_drum=True)


# -- the features --------------------------------------------------------------------------
def test_density_pitch_and_velocity():
    f = symbolic_features(line(C_SCALE, velocity=90, tempo=120))  # 8 quarter notes at 120 BPM = 4 s
    assert f.duration == 4.0 and f.n_notes == 8 and f.n_drum_notes == 0
    assert f.note_density == 2.0 and f.onset_rate == 2.0
    assert f.pitch_mean == pytest.approx(np.mean(C_SCALE)) and f.pitch_std == pytest.approx(np.std(C_SCALE))
    assert (f.pitch_min, f.pitch_max, f.pitch_range) == (60, 72, 12)
    assert f.velocity_mean == 90 and f.velocity_std == 0


def test_chords_count_once_for_onsets_but_fully_for_notes_and_polyphony():
    f = symbolic_features(chords([(60, 64, 67), (65, 69, 72)], tempo=60))  # two 2 s triads
    assert f.n_notes == 6 and f.note_density == 1.5 and f.onset_rate == 0.5
    assert f.polyphony == 3.0 and f.max_polyphony == 3


def test_polyphony_is_time_weighted_while_sounding():
    score = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(64, 0, 3), sk.Note(67, 5, 1)])], tempo=60)
    f = symbolic_features(score)
    assert f.polyphony == pytest.approx((2 * 1 + 1 * 2 + 1 * 1) / 4)  # the 2 s rest does not count
    assert f.max_polyphony == 2


@pytest.mark.parametrize("length,expected", [(1.0, 1.0), (0.5, 0.5), (0.25, 0.25), (1.5, 1.5)])
def test_articulation_is_sounding_length_over_inter_onset_interval(length, expected):
    assert symbolic_features(line(C_SCALE, length=length)).articulation == pytest.approx(expected)


def test_articulation_skips_rests_and_single_notes():
    assert symbolic_features(line([60])).articulation is None
    spaced = line([60, 62, 64], length=0.5, step=8, tempo=60)  # 8 s apart: rests, not staccato
    assert symbolic_features(spaced).articulation is None


def test_pitch_class_histogram_is_duration_weighted():
    score = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 3), sk.Note(76, 3, 1)])], tempo=60)
    f = symbolic_features(score)
    assert f.pc_histogram[0] == pytest.approx(0.75) and f.pc_histogram[4] == pytest.approx(0.25)
    assert f.pc_histogram.sum() == pytest.approx(1.0)


def test_c_major_scale_and_a_minor_progression_keys():
    c = symbolic_features(line(C_SCALE + C_SCALE[::-1]))
    assert (c.key, c.mode) == ("C major", "major") and c.key_clarity > 0.7 and c.mode_strength > 0
    a = symbolic_features(chords(A_MINOR * 2))
    assert (a.key, a.mode) == ("A minor", "minor") and a.mode_strength < 0
    assert a.declared_key == "C major"  # what the score says, not what it sounds like


def test_tempo_comes_from_the_tempo_map_averaged_over_time():
    assert symbolic_features(line(C_SCALE, tempo=90)).tempo == pytest.approx(90)
    notes = [sk.Note(60, b, 1) for b in range(8)]
    changing = sk.Score([sk.Track("p", 0, notes)], tempo_map=[(0, 60), (4, 120)])  # 4 s + 2 s for 8 beats
    assert symbolic_features(changing).tempo == pytest.approx(60 * 8 / 6)


@pytest.mark.parametrize("bpm", [60, 75, 90, 105, 120, 135, 150, 165, 180])
def test_tempo_estimate_from_onsets_within_4_percent(bpm):
    pulse = [sk.Note(48 if b % 4 == 0 else 60, b, 0.5, 100 if b % 4 == 0 else 80) for b in range(32)]
    f = symbolic_features(sk.Score([sk.Track("piano", 0, pulse)], tempo=bpm))
    assert f.tempo_estimate == pytest.approx(bpm, rel=0.04) and f.tempo_confidence > 0.5


def test_tempo_estimate_ignores_a_nominal_tempo_map():
    # EMOPIA-style: a performance at 84 BPM written into a file that says 120 BPM
    spb_at_120, played = 0.5, 60 / 84
    notes = [sk.Note(60 + (i % 3) * 4, i * played / spb_at_120, 0.6, 90) for i in range(24)]
    f = symbolic_features(sk.Score([sk.Track("performance", 0, notes)], tempo=120))
    assert f.tempo == pytest.approx(120) and f.tempo_estimate == pytest.approx(84, rel=0.04)


@pytest.mark.parametrize("bpm", [72, 132])
def test_composed_scores_read_at_their_intent_tempo(bpm):
    score = sk.compose(sk.MusicalIntent(tempo=bpm, key="E minor"), duration=12, seed=2)
    assert symbolic_features(score).tempo_estimate == pytest.approx(bpm, rel=0.04)


def test_symbolic_and_audio_tempo_agree():
    score = sk.compose(sk.MusicalIntent(tempo=100, key="G major"), duration=10, seed=1)
    audio = audio_features(sk.render(score, sr=22050, synth="numpy"), sr=22050)
    assert symbolic_features(score).tempo_estimate == pytest.approx(audio.tempo, rel=0.02)


# -- drums -------------------------------------------------------------------------------------
def test_drums_count_for_rhythm_but_not_for_pitch():
    melody = line(C_SCALE, step=2, length=2)  # half notes
    with_drums = sk.Score(melody.tracks + [drums(16)], tempo=120)
    plain, both = symbolic_features(melody), symbolic_features(with_drums)
    assert both.pitch_mean == plain.pitch_mean and both.key == plain.key
    assert np.allclose(both.pc_histogram, plain.pc_histogram) and both.polyphony == plain.polyphony
    assert both.note_density == plain.note_density and both.n_drum_notes == 16
    assert both.onset_rate == pytest.approx(2 * plain.onset_rate)  # drums on every beat
    assert both.tempo_estimate == pytest.approx(120, rel=0.04)


def test_a_drum_only_score_has_no_pitch_features():
    f = symbolic_features(sk.Score([drums(16)], tempo=100))
    assert f.n_notes == 0 and f.pitch_mean is None and f.key is None and f.articulation is None
    assert f.polyphony == 0 and f.pc_histogram.sum() == 0 and f.tempo_estimate == pytest.approx(100, rel=0.04)
    assert np.all(np.isfinite(f.vector()))


# -- the summary -------------------------------------------------------------------------------------
def test_vector_and_summary_have_fixed_names():
    f = symbolic_features(line(C_SCALE))
    assert list(f.summary()) == list(SYMBOLIC_FEATURE_NAMES) == list(SymbolicFeatures.feature_names())
    vec = f.vector()
    assert vec.shape == (len(SYMBOLIC_FEATURE_NAMES),) and vec.dtype == np.float32 and np.all(np.isfinite(vec))
    assert f.summary()["pc_C"] == pytest.approx(2 / 8)
    json.dumps(f.to_dict())
    assert "C major" in repr(f)


# -- MIDI files and bad input ----------------------------------------------------------------------
def test_midi_path_bytes_and_file_object_give_the_score_features(tmp_path):
    score = sk.Score([sk.Track("p", 0, [sk.Note(p, i, 1, 70) for i, p in enumerate(C_SCALE)]), drums(8)], tempo=96)
    path = tmp_path / "tune.mid"
    score.to_midi(path)
    direct = symbolic_features(score).vector()
    np.testing.assert_allclose(symbolic_features(path).vector(), direct, atol=1e-3)
    np.testing.assert_allclose(symbolic_features(str(path)).vector(), direct, atol=1e-3)
    np.testing.assert_allclose(symbolic_features(path.read_bytes()).vector(), direct, atol=1e-3)
    with open(path, "rb") as handle:
        np.testing.assert_allclose(symbolic_features(handle).vector(), direct, atol=1e-3)


def test_emopia_clip_if_available():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "emopia" / "midis"
    files = sorted(folder.glob("Q1_*.mid"))[:1] if folder.is_dir() else []
    if not files:
        pytest.skip("EMOPIA MIDI files not found beside the checkout (../shared/data/emopia)")
    f = symbolic_features(files[0])
    assert f.n_notes > 50 and f.key is not None and f.tempo == pytest.approx(120)  # nominal tempo map
    assert f.tempo_estimate is None or 40 <= f.tempo_estimate <= 200


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.mid", "no such MIDI file"),
    (lambda d: _write(d / "broken.mid", b"MThd\x00\x00\x00\x06\x00"), "not a readable MIDI file"),
    (lambda d: _write(d / "text.mid", b"hello, this is not MIDI at all"), "not a readable MIDI file"),
    (lambda d: _write(d / "song.musicxml", b"<score-partwise/>"), "convert MusicXML to MIDI"),
    (lambda d: _write(d / "song.wav", b"RIFF"), "audio_features"),
    (lambda d: _empty_midi(d / "empty.mid"), "has no notes"),
])
def test_bad_files_raise_input_errors(tmp_path, make, message):
    with pytest.raises(sk.InputError, match=message):
        symbolic_features(make(tmp_path))


@pytest.mark.parametrize("value,message", [
    (sk.Score([]), "the score has no notes"),
    (sk.Score([sk.Track("empty", 0, [])]), "has no notes"),
    (None, "takes a Score, a MIDI file path"),
    (42, "not int"),
    (np.zeros(100), "not ndarray"),
])
def test_bad_values_raise_input_errors(value, message):
    with pytest.raises(sk.InputError, match=message):
        symbolic_features(value)


def _write(path, data):
    path.write_bytes(data)
    return path


def _empty_midi(path):
    sk.Score([], tempo=100).to_midi(path)
    return path
