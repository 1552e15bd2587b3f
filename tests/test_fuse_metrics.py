"""Music-quality metrics: known values on hand-made scores, conventions, corpus comparison."""

import math

import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.fuse import metrics as M

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]
BAR = [0.0, 1.0, 1.5, 2.0, 3.0]          # an onset pattern for one 4/4 bar


def score(*tracks, meter=(4, 4)):
    return sk.Score(list(tracks), tempo=120, meter=meter)


def melody(pitches, length=1.0, program=0, name="p"):
    return sk.Track(name, program, [sk.Note(p, i * length, length) for i, p in enumerate(pitches)])


def bars(onsets_per_bar, pitch=60, length=0.5):
    """A track with the given onsets (in beats within the bar) in each bar; None = a silent bar."""
    notes = [sk.Note(pitch, 4 * b + t, length) for b, onsets in enumerate(onsets_per_bar) if onsets
             for t in onsets]
    return sk.Track("p", 0, notes)


def drums(n=8):
    return sk.Track("kit", 0, [sk.Note(36 + (i % 3) * 5, i * 0.5, 0.25) for i in range(n)], is_drum=True)


# -- pitch metrics -------------------------------------------------------------------------

def test_entropy_known_values():
    assert M.pitch_class_entropy(score(melody(range(60, 72)))) == pytest.approx(math.log2(12))
    assert M.pitch_class_entropy(score(melody([48, 60, 72, 84]))) == 0.0
    assert M.pitch_class_entropy(score(melody([60, 67, 60, 67]))) == pytest.approx(1.0)
    # counted per note, not per length: a long C and a short G weigh the same
    uneven = score(sk.Track("p", 0, [sk.Note(60, 0, 7), sk.Note(67, 7, 1)]))
    assert M.pitch_class_entropy(uneven) == pytest.approx(1.0)


def test_scale_consistency_known_values():
    assert M.scale_consistency(score(melody(C_MAJOR))) == 1.0
    assert M.scale_consistency(score(melody([p + 3 for p in C_MAJOR]))) == 1.0       # Eb major
    assert M.scale_consistency(score(melody([57, 59, 60, 62, 64, 65, 67]))) == 1.0    # A natural minor
    assert M.scale_consistency(score(melody(range(60, 72)))) == pytest.approx(7 / 12)
    assert M.scale_consistency(score(melody(C_MAJOR + [61]))) == pytest.approx(8 / 9)


def test_pitch_range_and_drums_left_out():
    s = score(melody([48, 55, 72]), drums())
    assert M.pitch_range(s) == 24.0
    with_drums = M.quality_metrics(s)
    without = M.quality_metrics(score(melody([48, 55, 72])))
    for name in ("pitch_class_entropy", "scale_consistency", "pitch_range", "polyphony"):
        assert with_drums[name] == pytest.approx(without[name]), name


def test_polyphony_known_values():
    triads = score(sk.Track("p", 0, [sk.Note(p, 2 * b, 1) for b in range(4) for p in (60, 64, 67)]))
    assert M.polyphony(triads) == 3.0          # rests between the chords do not count
    assert M.polyphony(score(melody(C_MAJOR))) == 1.0
    # a unison doubling in another track is one pitch
    doubled = score(melody([60, 62]), melody([60, 62], name="q"))
    assert M.polyphony(doubled) == 1.0
    # a held C under a 4-note melody: 2 pitches all along
    held = score(sk.Track("bass", 32, [sk.Note(48, 0, 4)]), melody([60, 62, 64, 65]))
    assert M.polyphony(held) == 2.0
    # half the time 1 pitch, half the time 3 -> 2
    assert M.polyphony(score(sk.Track("p", 0, [sk.Note(60, 0, 2), sk.Note(64, 1, 1), sk.Note(67, 1, 1)]))) == \
        pytest.approx((1 + 3) / 2)


# -- rhythm metrics ------------------------------------------------------------------------

def test_empty_beat_rate_known_values():
    assert M.empty_beat_rate(score(sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(62, 3, 1)]))) == 0.5
    assert M.empty_beat_rate(score(sk.Track("p", 0, [sk.Note(60, 0, 3), sk.Note(62, 3, 1)]))) == 0.0  # held
    assert M.empty_beat_rate(score(melody(C_MAJOR))) == 0.0
    # a beat with only a drum hit is not empty
    gap = sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(62, 3, 1)])
    hit = sk.Track("kit", 0, [sk.Note(38, 1.5, 0.1)], is_drum=True)
    assert M.empty_beat_rate(score(gap, hit)) == 0.25


def test_groove_consistency_known_values():
    assert M.groove_consistency(score(bars([BAR] * 4))) == 1.0
    q = 4 * M.RESOLUTION
    assert M.groove_consistency(score(bars([[0, 1, 2, 3], [0, 2]]))) == pytest.approx(1 - 2 / q)
    assert M.groove_consistency(score(bars([[0, 1, 2, 3], [0, 2], [0, 1, 2, 3]]))) == pytest.approx(1 - 2 / q)


def test_groove_silent_bar_is_not_consistent():
    # MusPy would score two silent bars as a perfect match; here a pair with a silent bar scores 0
    assert M.groove_consistency(score(bars([BAR, None, None, BAR]))) == 0.0
    assert M.groove_consistency(score(bars([BAR, BAR, None, BAR]))) == pytest.approx(1 / 3)
    assert M.groove_consistency(score(bars([BAR, None, BAR]))) == 0.0
    # without the rule the same score would be near-perfect: the silent pairs are what pulls it down
    assert M.groove_consistency(score(bars([BAR, BAR, BAR, BAR]))) == 1.0


def test_groove_held_note_is_not_a_silent_bar():
    held = score(sk.Track("p", 0, [sk.Note(60, 0, 8)]))            # one onset, sounds through bar 2
    assert M.groove_consistency(held) == pytest.approx(1 - 1 / (4 * M.RESOLUTION))


def test_groove_undefined_for_one_bar_and_drums_count():
    assert math.isnan(M.groove_consistency(score(bars([BAR]))))
    only_drums = score(sk.Track("kit", 0, [sk.Note(36, 4 * b + t, 0.25) for b in range(3) for t in BAR],
                                is_drum=True))
    assert M.groove_consistency(only_drums) == 1.0


# -- structure metrics ---------------------------------------------------------------------

def test_self_similarity_known_values():
    chord = lambda b, pcs: [sk.Note(p, 4 * b, 4) for p in pcs]  # noqa: E731
    same = score(sk.Track("p", 0, chord(0, (60, 64, 67)) + chord(1, (60, 64, 67)) + chord(2, (72, 76, 79))))
    assert M.self_similarity(same) == pytest.approx(1.0)
    disjoint = score(sk.Track("p", 0, chord(0, (60, 64, 67)) + chord(1, (61, 65, 68))))
    assert M.self_similarity(disjoint) == pytest.approx(0.0)
    half = score(sk.Track("p", 0, chord(0, (60, 64)) + chord(1, (60, 66))))   # cosine of [1,1,0] and [1,0,1]
    value, matrix = M.self_similarity(half, matrix=True)
    assert value == pytest.approx(0.5) and matrix.shape == (2, 2)
    assert math.isnan(M.self_similarity(score(sk.Track("p", 0, chord(0, (60, 64, 67))))))


def test_self_similarity_skips_bars_without_pitches():
    chords = [sk.Note(p, 8 * b, 4) for b in range(3) for p in (60, 64, 67)]   # bars 0, 2, 4; rests between
    assert M.self_similarity(score(sk.Track("p", 0, chords))) == pytest.approx(1.0)


def test_repetition_rate_known_values():
    distinct = score(melody([60, 61, 63, 66, 70, 75]))           # intervals 1, 2, 3, 4, 5: no repeat
    assert M.repetition_rate(distinct, n=2) == 0.0
    loop = score(melody([60, 62, 64] * 4, length=1.0))
    # 12 notes -> 11 tokens (+2, +2, -4, +2, ...) -> 10 bigrams, 3 distinct -> 7 heard before
    assert M.repetition_rate(loop, n=2) == pytest.approx(7 / 10)
    transposed = score(melody([60, 62, 64, 65, 67, 69]))          # +2 +2 +1 +2 +2: bigram (+2, +2) twice
    assert M.repetition_rate(transposed, n=2) == pytest.approx(1 / 4)
    assert math.isnan(M.repetition_rate(score(melody([60, 62])), n=4))
    with pytest.raises(InputError, match="n must be"):
        M.repetition_rate(loop, n=0)


def test_repetition_rate_is_per_track():
    a, b = melody([60, 62, 64, 65]), melody([60, 62, 64, 65], name="q")
    assert M.repetition_rate(score(a, b), n=3) == 0.0        # one 3-gram per track: q does not repeat p
    twice = melody([60, 62, 64, 65, 67, 69, 71, 72])          # +2 +2 +1 +2 +2 +2 +1: (2, 2, 1) twice
    assert M.repetition_rate(score(twice), n=3) == pytest.approx(1 / 5)


# -- all metrics, conventions, bad input -----------------------------------------------------

def test_quality_metrics_matches_the_single_functions(tiny_score):
    cue = sk.compose(sk.Emotion(0.5, -0.4), duration=12, seed=4)
    for s in (cue, tiny_score):
        all_metrics = M.quality_metrics(s)
        assert tuple(all_metrics) == M.METRIC_NAMES
        for name, value in all_metrics.items():
            single = getattr(M, name)(s)
            assert (math.isnan(value) and math.isnan(single)) or value == pytest.approx(single), name


def test_drums_only_score_gives_nan_pitch_metrics():
    m = M.quality_metrics(score(drums(16)))
    for name in ("pitch_class_entropy", "scale_consistency", "pitch_range", "polyphony", "self_similarity",
                 "repetition_rate"):
        assert math.isnan(m[name]), name
    assert m["empty_beat_rate"] == 0.0 and m["groove_consistency"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", M.METRIC_NAMES + ("quality_metrics",))
def test_empty_score_is_an_error(name):
    for empty in (sk.Score([]), sk.Score([sk.Track("p", 0, [])])):
        with pytest.raises(InputError, match="empty"):
            getattr(M, name)(empty)


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="Score or a MIDI"):
        M.quality_metrics([60, 62, 64])
    with pytest.raises(InputError, match="no such file"):
        M.pitch_range(tmp_path / "missing.mid")
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    with pytest.raises(InputError, match="MIDI"):
        M.quality_metrics(wav)


def test_midi_path_input(tmp_path):
    cue = sk.compose(sk.Emotion(-0.5, 0.5), duration=8, seed=1)
    path = tmp_path / "cue.mid"
    cue.to_midi(path)
    from_file, from_score = M.quality_metrics(path), M.quality_metrics(cue)
    for name in ("pitch_class_entropy", "scale_consistency", "pitch_range"):
        assert from_file[name] == pytest.approx(from_score[name]), name


def test_odd_meters_do_not_break_the_grid():
    s = score(sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(62, 2.0, 0.1)]), meter=(5, 8))  # 2.5 beats a bar
    m = M.quality_metrics(s)
    assert m["empty_beat_rate"] == pytest.approx(1 / 3)
    assert math.isnan(m["groove_consistency"])


# -- corpus comparison -----------------------------------------------------------------------

def test_compare_identical_sets():
    cues = [sk.compose(sk.Emotion(0.6, 0.4), duration=8, seed=s) for s in range(5)]
    result = M.compare_to_corpus(cues, cues)
    assert list(result) == list(M.METRIC_NAMES)
    for name, row in result.items():
        assert row["n"] == row["corpus_n"] == 5, name
        assert row["mean"] == pytest.approx(row["corpus_mean"]), name
        assert row["overlap"] == pytest.approx(1.0, abs=1e-3), name
        assert row["effect_size"] == pytest.approx(0.0), name


def test_compare_known_statistics_and_direction():
    narrow = [{**dict.fromkeys(M.METRIC_NAMES, 1.0), "pitch_range": float(v)} for v in (10, 12, 14)]
    wide = [{**dict.fromkeys(M.METRIC_NAMES, 1.0), "pitch_range": float(v)} for v in (30, 34, 38)]
    row = M.compare_to_corpus(narrow, wide)["pitch_range"]
    assert (row["mean"], row["std"], row["corpus_mean"], row["corpus_std"]) == pytest.approx((12, 2, 34, 4))
    assert row["effect_size"] == pytest.approx((12 - 34) / math.sqrt((2 * 4 + 2 * 16) / 4))
    assert row["overlap"] < 0.01
    close = M.compare_to_corpus(narrow, [{**narrow[0], "pitch_range": float(v)} for v in (11, 13, 15)])
    assert 0.5 < close["pitch_range"]["overlap"] < 1.0
    constant = M.compare_to_corpus(narrow, [{**narrow[0], "scale_consistency": 0.5}])["scale_consistency"]
    assert constant["overlap"] < 0.01 and constant["effect_size"] == math.inf
    # a constant set (never an empty beat) against a set that is mostly that constant overlaps a lot
    zeros = [{**narrow[0], "empty_beat_rate": 0.0} for _ in range(10)]
    mostly = [{**narrow[0], "empty_beat_rate": v} for v in [0.0] * 7 + [0.01, 0.012, 0.015]]
    assert 0.5 < M.compare_to_corpus(zeros, mostly)["empty_beat_rate"]["overlap"] < 0.95


def test_compare_skips_nan_and_reads_folders(tmp_path):
    cues = [sk.compose(sk.Emotion(-0.5, -0.5), duration=6, seed=s) for s in range(2)]
    result = M.compare_to_corpus(cues + [score(drums(16))], cues)
    assert result["pitch_range"]["n"] == 2 and result["groove_consistency"]["n"] == 3
    for i, cue in enumerate(cues):
        cue.to_midi(tmp_path / f"{i}.mid")
    (tmp_path / "notes.txt").write_text("not music")
    from_folder = M.compare_to_corpus(cues, tmp_path)
    assert from_folder["pitch_range"]["corpus_n"] == 2
    assert "| pitch_range |" in M.comparison_markdown(from_folder)


def test_compare_bad_input(tmp_path):
    cue = sk.compose(sk.Emotion(0.5, 0.5), duration=4)
    with pytest.raises(InputError, match="corpus is empty"):
        M.compare_to_corpus([cue], [])
    with pytest.raises(InputError, match=r"corpus\[1\]: .*empty"):
        M.compare_to_corpus([cue], [cue, sk.Score([])])
    with pytest.raises(InputError, match="not a folder"):
        M.compare_to_corpus([cue], tmp_path / "nowhere")
    with pytest.raises(InputError, match="collection"):
        M.compare_to_corpus(cue, [cue])
    with pytest.raises(InputError, match="without"):
        M.compare_to_corpus([cue], [{"pitch_range": 3.0}])

