"""The REMI-like tokenizer: lossless round trips up to quantisation, garbage decoding, vocabulary files."""

import json
import subprocess
import sys

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError, ModelError
from scoringkit.generate.models.tokenizer import DRUMS, METERS, RemiTokenizer
from scoringkit.types import Note, Score, Track

TOK = RemiTokenizer()


def _round_trip(tok, score, quadrant=None):
    ids = tok.encode(score, quadrant=quadrant)
    decoded = tok.decode(ids)
    assert tok.encode(decoded, quadrant=quadrant) == ids
    assert tok.note_events(decoded) == tok.note_events(score)
    return ids, decoded


def _hand_made():
    melody = Track("melody", 73, [Note(72, 0, 1, 90), Note(74, 1.02, 0.49, 81), Note(76, 1.5, 0.5, 64),
                                  Note(77, 7.9, 30.0, 127), Note(72, 0.01, 0.2, 20)],  # long (capped), a duplicate
                   program_changes=[(6.0, 40)])
    bass = Track("bass", 33, [Note(36, 0, 2, 70), Note(31, 2, 2, 1), Note(43, 13.0, 1.0, 100)])
    drums = Track("drums", 0, [Note(36, b, 0.25, 110) for b in range(0, 12, 2)] + [Note(42, 0.5, 0.1, 50)],
                  is_drum=True)
    return Score([melody, bass, drums], meter=(3, 4), tempo_map=[(0, 96), (3.0, 140), (6.1, 140.5)],
                 key_map=[(0, "E minor"), (9, "G major")])


def test_hand_made_score_round_trips_up_to_quantisation():
    score = _hand_made()
    ids, decoded = _round_trip(TOK, score, quadrant=2)
    names = TOK.token_names(ids)
    assert names[:5] == ["BOS", "Q2", "TimeSig_3/4", "Key_E_minor", "Tempo_95.2"]
    assert names[-1] == "EOS" and names.count("Bar") == 5  # 15 beats of 3/4; the last note starts in bar 5
    assert "Key_G_major" in names and "Tempo_142.7" in names and names.count("Tempo_142.7") == 1  # 140 ~ 140.5
    assert decoded.meter == (3, 4) and decoded.key_map == [(0.0, "E minor"), (9.0, "G major")]
    assert [b for b, _ in decoded.tempo_map] == [0.0, 3.0]
    by_program = {(t.program, t.is_drum): t for t in decoded.tracks}
    assert set(by_program) == {(33, False), (40, False), (73, False), (0, True)}  # program change: a new track
    assert by_program[(0, True)].name == "drums" and by_program[(33, False)].name == "bass 33"
    flute = [(n.pitch, n.start, n.duration, n.velocity) for n in by_program[(73, False)].notes]
    # onsets and durations on the sixteenth grid, velocities at their bin centres, the duplicate C merged
    assert flute == [(72, 0.0, 1.0, 92), (74, 1.0, 0.5, 84), (76, 1.5, 0.5, 68)]
    capped = by_program[(40, False)].notes[0]
    assert (capped.start, capped.duration, capped.velocity) == (8.0, 16.0, 124)


@pytest.mark.parametrize("valence,arousal", [(0.8, 0.7), (-0.7, 0.8), (-0.6, -0.5), (0.5, -0.6)])
def test_composed_scores_round_trip(valence, arousal):
    emotion = sk.Emotion(valence, arousal)
    for seed in range(2):
        score = sk.compose(emotion, duration=10, seed=seed)
        ids, decoded = _round_trip(TOK, score, quadrant=emotion.quadrant)
        assert decoded.n_notes == len(TOK.note_events(score)) > 20
        assert TOK.condition(ids) == emotion.quadrant
        programs = {(DRUMS if t.is_drum else t.program) for t in score.tracks}
        assert {(DRUMS if t.is_drum else t.program) for t in decoded.tracks} == programs


def test_composed_drums_survive():
    score = sk.compose(sk.Emotion(0.8, 0.8), duration=10, seed=0)
    assert any(t.is_drum for t in score.tracks)
    ids, decoded = _round_trip(TOK, score)
    assert TOK.token_names(ids)[1] == "Qnone"
    drums = [t for t in decoded.tracks if t.is_drum]
    assert len(drums) == 1 and drums[0].notes
    assert any(name.startswith("DrumPitch_") for name in TOK.token_names(ids))


def test_triplets_need_resolution_12():
    triplets = Score([Track("p", 0, [Note(60 + i, i / 3, 1 / 3, 80) for i in range(6)])])
    fine = RemiTokenizer(resolution=12)
    _, decoded = _round_trip(fine, triplets)
    assert [n.start for n in decoded.tracks[0].notes] == pytest.approx([i / 3 for i in range(6)])
    coarse = [n.start for n in TOK.decode(TOK.encode(triplets)).tracks[0].notes]
    assert coarse == [0.0, 0.25, 0.75, 1.0, 1.25, 1.75]  # snapped to sixteenths
    assert fine.vocab_size > TOK.vocab_size


def test_emopia_files_round_trip():
    from scoringkit.fuse.train import load_emopia

    try:
        clips = load_emopia()
    except InputError as err:
        pytest.skip(f"EMOPIA not available here: {err}")
    for clip in clips[::60]:  # 18 clips across the four quadrants
        score = Score.from_midi(clip.path)
        ids, _ = _round_trip(TOK, score, quadrant=clip.quadrant)
        assert TOK.token_names(ids)[:5] == ["BOS", f"Q{clip.quadrant}", "TimeSig_4/4", "Key_C_major", "Tempo_120.0"]
        assert 100 < len(ids) < 6000


def test_every_meter_round_trips():
    for meter in METERS:
        score = Score([Track("p", 0, [Note(60, b * 0.5, 0.5) for b in range(40)])], meter=meter)
        ids, decoded = _round_trip(TOK, score)
        beats_per_bar = meter[0] * 4 / meter[1]
        assert TOK.token_names(ids).count("Bar") == int(19.5 // beats_per_bar) + 1
        assert decoded.meter == meter


def test_empty_score_is_a_header():
    ids = TOK.encode(Score([]), quadrant=3)
    assert TOK.token_names(ids) == ["BOS", "Q3", "TimeSig_4/4", "Key_C_major", "Tempo_120.0", "EOS"]
    assert TOK.decode(ids).n_notes == 0


def test_encode_rejects_bad_input():
    with pytest.raises(InputError, match="Score"):
        TOK.encode("song.mid")
    for quadrant in (5, -1, 1.5, "Q1", True):
        with pytest.raises(InputError, match="quadrant"):
            TOK.encode(Score([]), quadrant=quadrant)
    with pytest.raises(InputError, match="11/8 has no token"):
        TOK.encode(Score([], meter=(11, 8)))


def test_garbage_never_crashes():
    rng = np.random.default_rng(0)
    real = TOK.encode(sk.compose(sk.Emotion(0.6, 0.6), duration=8, seed=1), quadrant=1)
    sequences = [rng.integers(0, TOK.vocab_size, size=int(n)) for n in rng.integers(0, 400, size=300)]
    sequences += [rng.permutation(real) for _ in range(20)]
    sequences += [np.array(real)[rng.random(len(real)) > 0.1] for _ in range(20)]  # 10 % of tokens dropped
    for ids in sequences:
        score = TOK.decode(ids)
        assert isinstance(score, Score)
        for track in score.tracks:
            for note in track.notes:
                assert note.duration > 0 and note.start >= 0
        score.to_midi()  # what a sampler produces can always be written
        assert TOK.note_events(TOK.decode(TOK.encode(score))) == TOK.note_events(score)


def test_ill_formed_events_are_skipped():
    t = TOK
    base = ["BOS", "Q1", "Bar", "Position_4", "Program_0"]
    note = ["Pitch_60", "Velocity_84", "Duration_1"]

    def notes(names):
        return [(n.pitch, n.start) for tr in t.decode([t[x] for x in names]).tracks for n in tr.notes]

    assert notes(base + note) == [(60, 1.0)]
    assert notes(base + ["Pitch_60", "Duration_1", "Velocity_84"]) == []  # wrong order
    assert notes(["BOS", "Position_4", "Program_0"] + note) == []  # no Bar yet
    assert notes(["Bar", "Program_0"] + note) == []  # no Position in this bar
    assert notes(["Bar", "Position_4", "Program_0", "Bar"] + note) == []  # Program and Position reset at a Bar
    assert notes(base + ["DrumPitch_36", "Velocity_84", "Duration_1"]) == []  # drum under a pitched program
    assert notes(base + note + ["Position_2"] + note) == [(60, 1.0)]  # time never goes backwards
    assert notes(base + note + ["Position_20"] + note) == [(60, 1.0)]  # past the end of a 4/4 bar
    assert notes(base + note + ["EOS", "Bar", "Position_0", "Program_0"] + note) == [(60, 1.0)]
    assert notes(["PAD", "Q3", "BOS"] + base + ["Pitch_61"] + note) == [(60, 1.0)]  # unfinished note dropped
    assert t.decode([t["Bar"], t["TimeSig_3/4"]]).meter == (4, 4)  # meter only in the header


def test_out_of_range_ids_are_input_errors():
    for bad in ([0, TOK.vocab_size], [-1], [1, 2.5], ["Bar"], [[1, 2]], 7):
        with pytest.raises(InputError):
            TOK.decode(bad)
        with pytest.raises(InputError):
            TOK.token_names(bad)
    with pytest.raises(InputError, match="no token named"):
        TOK["Pitch_300"]


def test_decode_accepts_arrays_and_tensors():
    torch = pytest.importorskip("torch")
    ids = TOK.encode(Score([Track("p", 0, [Note(60, 0, 1)])]))
    assert TOK.decode(np.array(ids)).n_notes == 1
    assert TOK.decode(torch.tensor(ids)).n_notes == 1


def test_transpose_table_moves_pitches_and_keys_only():
    ids = TOK.encode(_hand_made())
    up = TOK.transpose_table(3)[ids]
    names, moved = TOK.token_names(ids), TOK.token_names(up)
    assert moved[3] == "Key_G_minor" and "Key_Bb_major" in moved
    for a, b in zip(names, moved):
        if a.startswith("Pitch_"):
            assert int(b[6:]) == int(a[6:]) + 3
        elif not a.startswith("Key_"):
            assert a == b
    assert TOK.pitch_range(ids) == (31, 77) and TOK.pitch_range(up) == (34, 80)


def test_vocabulary_save_and_load(tmp_path):
    tok = RemiTokenizer(resolution=12, velocity_bins=32, tempo_bins=20, max_duration=8)
    path = tok.save(tmp_path / "vocab.json")
    loaded = RemiTokenizer.load(path)
    assert loaded == tok and loaded.vocab_hash == tok.vocab_hash and loaded.config() == tok.config()
    assert loaded.vocab_hash != TOK.vocab_hash
    with pytest.raises(InputError, match="refusing to overwrite"):
        tok.save(path)
    tok.save(path, overwrite=True)
    data = json.loads(path.read_text())
    data["vocab"][10] = "Bar"
    (tmp_path / "edited.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="do not match"):
        RemiTokenizer.load(tmp_path / "edited.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelError):
        RemiTokenizer.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({**data, "version": 99}))
    with pytest.raises(ModelError, match="version"):
        RemiTokenizer.load(tmp_path / "other.json")
    with pytest.raises(InputError, match="no such vocabulary"):
        RemiTokenizer.load(tmp_path / "missing.json")


def test_bad_settings_are_input_errors():
    for kwargs in ({"resolution": 1}, {"resolution": 4.0}, {"velocity_bins": 65}, {"tempo_bins": 1},
                   {"tempo_range": (200, 100)}, {"max_duration": 0}, {"tempo_range": "fast"}):
        with pytest.raises(InputError):
            RemiTokenizer(**kwargs)


def test_velocity_and_tempo_bins_are_stable():
    for bins in (2, 10, 16, 32, 64):
        tok = RemiTokenizer(velocity_bins=bins)
        assert [tok.velocity_bin(v) for v in tok.velocity_centres] == list(range(bins))
        assert tok.velocity_bin(1) == 0 and tok.velocity_bin(127) == bins - 1
    assert [TOK.tempo_bin(t) for t in TOK.tempo_centres] == list(range(TOK.tempo_bins))
    assert TOK.tempo_centres[TOK.tempo_bin(120)] == 120.0 and TOK.tempo_bin(5) == 0 and TOK.tempo_bin(999) == 40


def test_import_is_light():
    code = ("import sys, scoringkit.generate.models as m; m.RemiTokenizer; "
            "import scoringkit.generate.models.data; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
