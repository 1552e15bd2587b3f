import dataclasses
import json
import re

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.cli import main
from scoringkit.generate.rules import compose_rules
from scoringkit.generate.transitions import (
    TRANSITIONS, apply_transitions, chord_at, crossfade_render, find_pivot, loop_beats, loop_cue,
    pivot_modulation, render_loop, tempo_ramp,
)
from scoringkit.synth import TAIL_SECONDS
from scoringkit.types import MusicalIntent, key_name, parse_key

SR = 8000
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# calm (F major) -> terror (C minor, faster) -> grief (D minor, slower): new keys and tempos at each join
STORY = ("The meadow was calm and quiet and peaceful.\n\nThen the wolves came, howling and snarling in terror!\n\n"
         "She wept alone, grieving, at the cold grave.")
SRT = ("1\n00:00:02,000 --> 00:00:05,000\nThe lake is calm, quiet and still.\n\n"
       "2\n00:00:09,500 --> 00:00:12,000\nRun! Fire! Everyone is screaming!\n\n"
       "3\n00:00:17,000 --> 00:00:19,000\nShe wept alone at the grave.\n")


def story(transition, **kwargs):
    return sk.score_story(STORY, min_words=1, min_cue=5, max_cue=5, transition=transition, **kwargs)


def harmony(score, start, end):
    """Pitch classes sounding in [start, end) in the chordal tracks (pad, accompaniment, bass)."""
    return frozenset(n.pitch % 12 for t in score.tracks if t.name in ("pad", "accompaniment", "bass")
                     for n in t.notes if min(n.end, end) - max(n.start, start) > 1e-6)


def key_pitch_classes(key):
    """The key's scale (minor: natural minor plus the leading tone of its major V)."""
    tonic, mode = parse_key(key)
    scale = {(tonic + s) % 12 for s in SCALES[mode]} | ({(tonic + 11) % 12} if mode == "minor" else set())
    return scale


def dominant(key):
    tonic, _ = parse_key(key)
    return frozenset((tonic + 7 + s) % 12 for s in (0, 4, 7))


# -- pivot-chord modulation -------------------------------------------------------------------
@pytest.mark.parametrize("old,new,chord", [("C major", "G major", "Am"), ("C major", "A minor", "Dm"),
                                           ("F major", "C minor", "Bb"), ("C minor", "D minor", "Bb"),
                                           ("D minor", "F major", "Gm")])
def test_related_keys_pivot_on_a_chord_of_both_keys(old, new, chord):
    pivot = find_pivot(old, new)
    assert pivot.kind == "diatonic"
    assert sk.generate.transitions.chord_name(pivot.chord) == chord
    for key in (old, new):  # a triad of both keys (minor: natural minor plus the raised leading tone of V)
        assert set(pivot.chord) <= key_pitch_classes(key)
    assert frozenset(pivot.dominant) == dominant(new)


def test_every_pair_of_keys_gets_a_pivot_and_remote_keys_borrow():
    keys = [key_name(pc, mode) for pc in range(12) for mode in ("major", "minor")]
    kinds = {find_pivot(a, b).kind for a in keys for b in keys if a != b}
    assert kinds <= {"diatonic", "borrowed", "chromatic"}
    far = find_pivot("F major", "D major")  # no triad in common
    assert far.kind == "borrowed" and set(far.chord) <= key_pitch_classes("F major")


def test_pivot_modulation_rewrites_only_the_last_bar():
    cue = compose_rules(MusicalIntent(tempo=100, key="C major"), duration=10, seed=3)
    moved = pivot_modulation(cue, "G major")
    end = loop_beats(cue)
    assert loop_beats(moved) == end and moved.seconds_at(end) == cue.seconds_at(end)
    assert harmony(moved, end - 4, end - 2) == frozenset(find_pivot("C major", "G major").chord)  # Am
    assert harmony(moved, end - 2, end) == dominant("G major")  # D
    for before, after in zip(cue.tracks, moved.tracks):
        assert [(n.pitch, n.start) for n in before.notes if n.end <= end - 4] == \
               [(n.pitch, n.start) for n in after.notes if n.end <= end - 4]
    assert pivot_modulation(cue, "C major") is cue  # same key: nothing to do


def test_story_modulates_through_a_pivot_to_the_new_dominant():
    st = story("pivot")
    score, changed = st.score, 0
    for cue, following in zip(st.cues, st.cues[1:]):
        old, new = cue.intent.key, following.intent.key
        boundary = score.beat_at(following.start + 1e-9)
        bar = score.beats_per_bar
        chords = [harmony(score, b, b + bar / 2) for b in np.arange(boundary - bar, boundary + bar, bar / 2)]
        if parse_key(old) == parse_key(new):
            continue
        changed += 1
        assert dominant(new) in chords[:2], (old, new, chords)  # the V of the new key ends the outgoing cue
        pivots = [c for c in chords[:2] if c <= key_pitch_classes(old) and c <= key_pitch_classes(new) and len(c) == 3]
        assert pivots, (old, new, chords)  # ... reached through a chord of both keys
        assert score.key_at(boundary + 1e-6) == new
    assert changed >= 1


# -- tempo ramps ------------------------------------------------------------------------------
def test_tempo_ramps_monotonically_between_the_two_tempos():
    st = story("pivot")
    score, ramps = st.score, 0
    for cue, following in zip(st.cues, st.cues[1:]):
        a, b = cue.intent.tempo, following.intent.tempo
        boundary = score.beat_at(following.start + 1e-9)
        steps = [bpm for beat, bpm in score.tempo_map if boundary - score.beats_per_bar - 1e-6 <= beat <= boundary + 1e-6]
        assert steps[-1] == pytest.approx(b)
        if abs(a - b) <= 5:
            continue
        ramps += 1
        assert len(steps) >= 4
        ordered = steps if b > a else steps[::-1]
        assert all(x < y for x, y in zip(ordered, ordered[1:]))
        assert all(min(a, b) <= bpm <= max(a, b) for bpm in steps)
    assert ramps >= 1
    # the cue sheet follows the ramped tempo: each cue starts where the combined score plays it
    beat = 0.0
    for cue in st.cues:
        assert score.seconds_at(beat) == pytest.approx(cue.start)
        assert cue.end - cue.start == pytest.approx(cue.score.seconds_at(loop_beats(cue.score)))
        beat += loop_beats(cue.score)
    assert score.duration == pytest.approx(st.cues[-1].end, abs=0.05)


def test_small_tempo_differences_are_not_ramped():
    s = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 8)])], tempo=100)
    assert tempo_ramp(s, 103) is s
    assert len(tempo_ramp(s, 140).tempo_map) == 5


# -- crossfades ----------------------------------------------------------------------------
def rms_windows(x, start, stop, width=80):
    return np.array([np.sqrt(np.mean(x[i:i + width] ** 2)) for i in range(max(0, start), min(len(x) - width, stop), width)])


def test_crossfade_has_no_gap_no_click_and_the_right_length():
    faded, cut = story("crossfade", crossfade=1.0), story("cut")
    # crossfading changes no note and no time: same cue sheet as butt-joined cues
    assert [(c.start, c.end) for c in faded.cues] == [(c.start, c.end) for c in cut.cues]
    x = faded.render(sr=SR, synth="numpy")
    assert np.all(np.isfinite(x)) and np.max(np.abs(x)) <= 1.0
    last = faded.cues[-1]
    expected = round(last.start * SR) + int(np.ceil((last.score.duration + TAIL_SECONDS) * SR))
    assert len(x) == expected
    assert abs(len(x) - len(cut.render(sr=SR, synth="numpy"))) <= 1
    steps = np.abs(np.diff(x))
    typical = np.median(rms_windows(x, 0, len(x)))
    for cue in faded.cues[1:]:
        b = int(round(cue.start * SR))
        assert rms_windows(x, b - SR // 2, b + SR).min() > 0.1 * typical  # no silence across the join
        assert steps[b - SR // 50: b + SR // 50].max() <= np.percentile(steps, 99.9)  # no click
    assert not np.array_equal(x, cut.render(sr=SR, synth="numpy"))


def test_crossfade_is_equal_power_and_starts_with_the_next_cue():
    # two steady organ tones a tritone apart (no shared partials): cue A still sounding when cue B begins at 2 s
    a, b = story("crossfade").cues[:2]
    tone = lambda pitch: sk.Score([sk.Track("organ", 19, [sk.Note(pitch, 0, 8)])], tempo=120)  # 4 s
    cues = [dataclasses.replace(a, score=tone(69), start=0.0, end=2.0),
            dataclasses.replace(b, score=tone(75), start=2.0, end=6.0)]
    x = crossfade_render(cues, seconds=1.0, sr=SR, synth="numpy")
    level = rms_windows(x, SR // 2, 2 * SR, width=800).mean()
    assert rms_windows(x, SR // 2, 2 * SR, width=800).std() < 0.02 * level  # untouched before B starts
    fade = rms_windows(x, 2 * SR + SR // 20, 3 * SR, width=800)
    assert np.all(np.abs(fade / level - 1) < 0.1)  # cos² + sin² = 1: constant power through the fade
    after = rms_windows(x, 3 * SR + SR // 20, 3 * SR + SR // 2, width=800)
    assert np.all(np.abs(after / level - 1) < 0.1)  # then B alone, at full level


def test_subtitle_cues_keep_their_time_codes_with_every_transition():
    for transition in TRANSITIONS:
        st = sk.score_story(SRT, min_words=1, transition=transition)
        assert [c.start for c in st.cues] == [2.0, 9.5, 17.0]
        for cue, following in zip(st.cues, st.cues[1:]):
            assert cue.end <= following.start + 1e-9
            assert following.start - cue.end < 60.0 / cue.intent.tempo * 4 + 1e-9
    faded = sk.score_story(SRT, min_words=1, transition="crossfade")
    x = faded.render(sr=SR, synth="numpy")
    assert np.max(np.abs(x[: 2 * SR - 1])) == 0  # nothing before the first time code
    assert np.max(np.abs(x[2 * SR: 2 * SR + SR // 2])) > 0


@pytest.mark.parametrize("kwargs,message", [({"transition": "fade"}, "'pivot', 'crossfade', 'cut'"),
                                            ({"transition": None}, "choose one of"),
                                            ({"transition": "crossfade", "crossfade": 0}, "crossfade must be"),
                                            ({"transition": "crossfade", "crossfade": 60}, "(0, 8]"),
                                            ({"transition": "pivot", "crossfade": 2}, "transition='crossfade'")])
def test_bad_transition_options_are_input_errors(kwargs, message):
    with pytest.raises(sk.InputError, match=re.escape(message)):
        sk.score_story("A calm day.", **kwargs)


def test_cut_leaves_the_cues_as_composed():
    cut = story("cut")
    assert all(len(c.score.tempo_map) == 1 for c in cut.cues)
    assert apply_transitions(cut.cues, transition="cut") == cut.cues


# -- loops --------------------------------------------------------------------------------
@pytest.mark.parametrize("valence,arousal", [(0.7, 0.6), (-0.6, 0.7), (-0.6, -0.6), (0.6, -0.6)])
def test_loop_harmony_leads_back_to_the_opening_chord(valence, arousal):
    loop = sk.compose(sk.Emotion(valence, arousal), duration=8, seed=1, loop=True)
    plain = sk.compose(sk.Emotion(valence, arousal), duration=8, seed=1)
    end, bar = loop_beats(loop), loop.beats_per_bar
    assert end == loop_beats(plain)
    opening = chord_at(loop, 0, bar)
    assert harmony(loop, end - bar / 2, end) == frozenset((opening[0] + 7 + s) % 12 for s in (0, 4, 7))  # V of bar 1
    assert all(beat < end - 2 * bar for beat, _ in loop.tempo_map[1:])  # no final ritardando
    assert max(n.end for _, n in loop.notes()) <= end + 1e-9  # nothing rings past the loop point (no fermata)
    onsets = lambda b: sum(1 for t in loop.tracks if t.name == "accompaniment" for n in t.notes if b <= n.start < b + bar)
    assert onsets(end - bar) >= onsets(end - 2 * bar)  # the accompaniment keeps its pattern into the seam


@pytest.mark.parametrize("synth", ["numpy", "auto"])
def test_rendered_loop_is_seamless(synth):
    loop = sk.compose(sk.Emotion(0.6, 0.5), duration=6, seed=2, loop=True)
    x = render_loop(loop, sr=SR, synth=synth)
    assert len(x) == round(loop.seconds_at(loop_beats(loop)) * SR)  # exactly the bars
    steps = np.abs(np.diff(x))
    assert abs(float(x[-1]) - float(x[0])) < np.percentile(steps, 99)  # no click at the loop point
    twice = np.concatenate([x, x])
    seam = len(x)
    windows = rms_windows(twice, seam - SR // 2, seam + SR // 2)
    assert windows.min() > 0.1 * np.median(rms_windows(x, 0, len(x)))  # no gap when it repeats


def test_wrapped_loop_equals_steady_state_playback():
    loop = loop_cue(compose_rules(MusicalIntent(tempo=120, key="A minor", density=1.0, velocity=60), duration=8, seed=4))
    x = render_loop(loop, sr=SR, synth="numpy")
    beats = loop_beats(loop)
    again = lambda t: [sk.Note(n.pitch, n.start + beats, n.duration, n.velocity) for n in t.notes]
    doubled = sk.Score([sk.Track(t.name, t.program, t.notes + again(t), is_drum=t.is_drum) for t in loop.tracks],
                       tempo=120)
    played = sk.render(doubled, sr=SR, synth="numpy")
    assert np.allclose(x, played[len(x): 2 * len(x)], atol=1e-5)  # the second time round, tail included


def test_loop_option_is_checked():
    with pytest.raises(sk.InputError, match="loop must be True or False"):
        sk.compose(sk.Emotion(0, 0), duration=4, loop="yes")
    with pytest.raises(sk.InputError, match="has no notes"):
        render_loop(sk.Score())


# -- command line ----------------------------------------------------------------------
def test_score_command_takes_a_transition(tmp_path):
    story_file = tmp_path / "story.txt"
    story_file.write_text(STORY, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["score", str(story_file), "-o", str(out), "-q", "--synth", "numpy", "--sr", str(SR),
                 "--transition", "crossfade", "--crossfade", "1"]) == 0
    sheet = json.loads((out / "cues.json").read_text())  # the cue sheet names the transition
    assert (sheet["transition"], sheet["crossfade"]) == ("crossfade", 1.0)
    assert main(["score", str(story_file), "-o", str(tmp_path / "x"), "-q", "--transition", "dissolve"]) == 2


def test_compose_command_writes_a_seamless_loop(tmp_path, capsys):
    import soundfile

    mid, wav = tmp_path / "loop.mid", tmp_path / "loop.wav"
    assert main(["compose", "--valence", "0.5", "--arousal", "0.5", "-o", str(mid), "--wav", str(wav),
                 "--duration", "6", "--loop", "--synth", "numpy", "--sr", str(SR)]) == 0
    assert "loop:" in capsys.readouterr().out
    audio, sr = soundfile.read(wav)
    loop = sk.Score.from_midi(mid)
    assert sr == SR and len(audio) == round(loop.seconds_at(loop_beats(loop)) * SR)
