"""The composer's counter-line and the renderer's reverb (mapping table: texture and space)."""

import io

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.generate.rules import chord_pitch_classes
from scoringkit.synth import add_reverb, impulse_response

QUADRANTS = {1: sk.Emotion(0.7, 0.6), 2: sk.Emotion(-0.6, 0.7), 3: sk.Emotion(-0.7, -0.6), 4: sk.Emotion(0.6, -0.6)}


def _sounding(notes, beat):
    heard = [n for n in notes if n.start <= beat + 1e-9]
    return heard[-1].pitch if heard else None


@pytest.mark.parametrize("quadrant", [1, 2, 3, 4])
def test_the_counter_line_sits_under_the_melody_on_chord_tones(quadrant):
    score = sk.compose(QUADRANTS[quadrant], duration=40, seed=quadrant)
    counter, melody = score.track("counter").notes, sorted(score.track("melody").notes, key=lambda n: n.start)
    assert len(counter) >= 4
    bar = score.beats_per_bar
    assert min(n.start for n in counter) >= 2 * bar  # it enters after the melody has been heard alone
    assert max(n.velocity for n in counter) < np.mean([n.velocity for n in melody])  # softer than the tune
    tonic = sk.emotion_to_intent(QUADRANTS[quadrant]).tonic
    pad = score.track("pad").notes
    for note in counter:
        above = _sounding(melody, note.start)
        assert above is None or note.pitch <= above - 3  # a minor third or more below the melody
        chord = {p.pitch % 12 for p in pad if p.start <= note.start < p.end}
        assert note.pitch % 12 in chord  # a tone of the chord sounding in the pad
    assert counter[-1].pitch % 12 in chord_pitch_classes("I" if QUADRANTS[quadrant].valence > 0 else "i", tonic)[:2]


def test_the_counter_line_moves_against_the_melody_without_parallel_fifths_or_octaves():
    contrary = similar = parallel = 0
    for quadrant, emotion in QUADRANTS.items():
        for seed in range(5):
            score = sk.compose(emotion, duration=30, seed=seed)
            counter = score.track("counter").notes
            melody = sorted(score.track("melody").notes, key=lambda n: n.start)
            pairs = [(n.pitch, _sounding(melody, n.start)) for n in counter]
            for (c0, m0), (c1, m1) in zip(pairs, pairs[1:]):
                own, theirs = c1 - c0, m1 - m0
                contrary += own * theirs < 0
                similar += own * theirs > 0
                parallel += bool(own and theirs and (m0 - c0) % 12 in (0, 7) and (m1 - c1) % 12 == (m0 - c0) % 12)
    assert contrary > similar  # contrary motion is the rule, not the exception
    assert parallel == 0


def test_no_counter_role_means_no_counter_track_and_short_cues_stay_simple():
    plain = sk.compose(sk.MusicalIntent(tempo=100, key="C major"), duration=20, seed=0)
    assert "counter" not in [t.name for t in plain.tracks]
    one_bar = sk.compose(QUADRANTS[1], duration=2, seed=0)
    assert "counter" not in [t.name for t in one_bar.tracks]


def test_the_table_gives_calm_and_sad_scenes_more_room_than_excited_ones():
    rooms = {q: sk.emotion_to_intent(e).reverb for q, e in QUADRANTS.items()}
    assert rooms[3] > rooms[4] > rooms[1] and rooms[3] > rooms[2]
    assert sk.emotion_to_intent(QUADRANTS[2], style="horror").reverb > rooms[2]
    assert sk.emotion_to_intent(QUADRANTS[1], style="game").reverb == 0.1
    score = sk.compose(QUADRANTS[3], duration=8, seed=0)
    assert score.reverb == rooms[3] and "reverb" in sk.emotion_to_intent(QUADRANTS[3]).explain()


def test_reverb_lengthens_the_decay_and_dry_is_unchanged():
    sr = 22050
    score = sk.Score([sk.Track("piano", 0, [sk.Note(60, 0, 0.5, 100)])], tempo=120)
    dry = sk.render(score, sr=sr, synth="numpy")
    assert np.array_equal(sk.render(score, sr=sr, synth="numpy", reverb=0.0), dry)  # a dry score renders as before
    hall = sk.render(score, sr=sr, synth="numpy", reverb=0.9)
    assert len(hall) == len(dry)
    after = slice(int(0.6 * sr), int(1.2 * sr))  # after the note and its release
    energy = lambda x: float(np.sum(x[after].astype(np.float64) ** 2))  # noqa: E731
    assert energy(hall) > 50 * energy(dry) + 1e-9
    wet_score = sk.Score(score.tracks, tempo=120, reverb=0.9)
    assert np.array_equal(sk.render(wet_score, sr=sr, synth="numpy"), hall)  # the score's own room by default


def test_the_impulse_response_decays_by_60_db_over_its_reverberation_time():
    sr = 16000
    for amount in (0.1, 0.5, 1.0):
        ir = impulse_response(amount, sr=sr)
        rt60 = 0.3 + 1.2 * amount
        assert abs(len(ir) / sr - rt60) < 0.01
        early = np.sum(ir[: len(ir) // 10] ** 2)
        late = np.sum(ir[-len(ir) // 10:] ** 2)
        assert 10 * np.log10(early / late) > 35  # the last tenth is far below the first
        assert np.sum(ir ** 2) == pytest.approx(1.0)
    assert np.array_equal(impulse_response(0.5, sr=sr), impulse_response(0.5, sr=sr))  # the same room each time


def test_a_soundtrack_keeps_each_cue_s_room_and_midi_carries_it():
    story = "The harbour slept under a quiet grey rain.\n\nThen the drums of the festival burst out, loud and wild!"
    st = sk.score_story(story, min_words=1, min_cue=6, max_cue=6)
    rooms = [cue.score.reverb for cue in st.cues]
    assert rooms[0] > rooms[1]
    joined = st.score
    assert [joined.reverb_at(joined.beat_at(cue.start) + 0.01) for cue in st.cues] == rooms
    back = sk.Score.from_midi(io.BytesIO(_midi_bytes(joined))) if hasattr(sk.Score, "from_midi") else None
    assert back is not None
    assert [a for _, a in back.reverb_map] == pytest.approx([round(round(r * 127) / 127, 3) for r in rooms], abs=1e-3)


def _midi_bytes(score):
    buffer = io.BytesIO()
    score.to_midi().save(file=buffer)
    return buffer.getvalue()


def test_a_dry_score_writes_no_reverb_controller():
    score = sk.compose(sk.MusicalIntent(tempo=100, key="C major"), duration=4)
    messages = [m for track in score.to_midi().tracks for m in track if m.type == "control_change"]
    assert messages == []


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "big", True])
def test_bad_reverb_values_are_refused_with_the_range(bad):
    score = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 1)])])
    with pytest.raises(InputError, match="reverb"):
        sk.render(score, sr=8000, reverb=bad)
    with pytest.raises(InputError, match="reverb"):
        sk.MusicalIntent(tempo=100, key="C major", reverb=bad)
    if not isinstance(bad, (str, bool)):
        with pytest.raises(InputError, match="reverb"):
            sk.Score([], reverb=bad)
    with pytest.raises(InputError, match="reverb"):
        add_reverb(np.zeros(100), 2.0, sr=8000)
    with pytest.raises(InputError, match="reverb_map"):
        sk.Score([], reverb_map=[(1.0, 0.5)])


def test_a_leitmotif_statement_is_heard_without_the_counter_line():
    from scoringkit.generate import leitmotif

    intent = sk.emotion_to_intent(QUADRANTS[1])
    score = sk.compose(intent, duration=60, seed=0)
    theme = leitmotif.make_leitmotif("Mara")
    before = len(score.track("counter").notes)
    leitmotif.apply_leitmotif(score, intent, theme)
    statement = leitmotif.realise(theme, intent)
    bar = score.beats_per_bar
    theme_end = -(-max(n.end for n in statement) // bar) * bar
    counter = score.track("counter").notes
    assert 0 < len(counter) < before
    halfway = (score.end_beat / 2) // bar * bar
    for note in counter:
        assert note.start >= theme_end or note.end <= 0
        assert not (halfway <= note.start < halfway + theme_end)
