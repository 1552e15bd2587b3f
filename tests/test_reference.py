"""Reference matching: emotion_to_intent(..., reference=track) and score_story(..., reference=track)."""

import json

import numpy as np
import pytest

import scoringkit as sk
import scoringkit.extract
from scoringkit.cli import main
from scoringkit.mapping import LINEAR_RULES, reference_features, reference_targets

SR = 22050
SAD = sk.Emotion(-0.7, -0.6)  # 64.4 BPM, D minor, lament
TWO_SCENES = "The funeral was grey and silent; she wept alone.\n\nThe village laughed and danced with joy!"


@pytest.fixture(scope="module")
def fast_score():
    return sk.compose(sk.Emotion(0.8, 0.8), duration=10, seed=2)  # 132.4 BPM in D major


@pytest.fixture(scope="module")
def clip(fast_score, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "fast.wav"
    # dry: on a 12 s clip the key estimate sits between D major and its relative B minor,
    # and a little room (reverb 0.13-0.2) tips it to B minor; these tests are about the blend
    sk.write_wav(path, sk.render(fast_score, sr=SR, reverb=0.0), sr=SR)
    return path


@pytest.fixture(scope="module")
def clip_features(clip):
    return reference_features(clip)


def test_an_audio_reference_pulls_a_sad_cue_toward_it(clip, clip_features):
    assert clip_features.tempo == pytest.approx(132.4, rel=0.04) and clip_features.key == "D major"
    plain, matched = sk.emotion_to_intent(SAD), sk.emotion_to_intent(SAD, reference=clip)
    assert plain.tempo < matched.tempo < clip_features.tempo
    assert matched.tempo == pytest.approx(0.5 * plain.tempo + 0.5 * clip_features.tempo, abs=0.06)
    assert (matched.key, matched.mode, matched.harmony) == ("D major", "major", "pastoral")  # key adopted at w = 0.5
    for name, (target, _) in reference_targets(clip_features).items():  # every attribute leans the same way
        if name != "key":
            assert np.sign(getattr(matched, name) - getattr(plain, name)) == np.sign(target - getattr(plain, name))
    assert "0.5 × reference 13" in matched.reasons["tempo"] and "× emotion 64.4 BPM" in matched.reasons["tempo"]
    assert matched.reasons["reference"].startswith("audio reference at weight 0.5")
    assert (matched.articulation, matched.instruments) == (plain.articulation, plain.instruments)


def test_weight_0_is_the_plain_intent_and_weight_1_the_reference(clip_features):
    assert sk.emotion_to_intent(SAD, reference=clip_features, reference_weight=0) == sk.emotion_to_intent(SAD)
    full = sk.emotion_to_intent(SAD, reference=clip_features, reference_weight=1)
    assert full.tempo == pytest.approx(132.4, rel=0.04) and full.key == "D major"
    low, high = LINEAR_RULES["velocity"][3:5]
    assert low <= full.velocity <= high


def test_a_light_reference_keeps_the_mode_on_its_key_signature(clip_features):
    light = sk.emotion_to_intent(SAD, reference=clip_features, reference_weight=0.25)
    assert (light.key, light.harmony) == ("B minor", "lament")  # relative minor of D major
    assert light.tempo == pytest.approx(0.75 * 64.4 + 0.25 * clip_features.tempo, abs=0.06)
    happy = sk.emotion_to_intent(sk.Emotion(0.6, 0.6), reference=clip_features, reference_weight=0.25)
    assert happy.key == "D major"  # same mode: the reference key itself


def test_a_symbolic_reference_from_a_score_or_midi_file(fast_score, tmp_path):
    matched = sk.emotion_to_intent(SAD, reference=fast_score)
    assert matched.tempo == pytest.approx(98.4, abs=0.1) and matched.key == "D major"
    assert "played tempo" in matched.reasons["tempo"] and "mean pitch" in matched.reasons["register"]
    fast_score.to_midi(tmp_path / "fast.mid")
    from_file = sk.emotion_to_intent(SAD, reference=tmp_path / "fast.mid")
    assert from_file.key == matched.key and from_file.tempo == pytest.approx(matched.tempo, abs=0.5)


def test_a_silent_reference_keeps_the_emotion_values_and_says_why():
    plain = sk.emotion_to_intent(SAD)
    quiet = sk.emotion_to_intent(SAD, reference=np.zeros(SR, np.float32), reference_sr=SR, reference_weight=1)
    assert (quiet.tempo, quiet.key, quiet.register, quiet.velocity, quiet.density) == (
        plain.tempo, plain.key, plain.register, plain.velocity, plain.density)
    assert "no steady pulse" in quiet.reasons["tempo"] and "no key" in quiet.reasons["key"]
    assert "nothing blended in" in quiet.reasons["reference"]


def test_score_story_analyses_the_reference_once_and_every_cue_leans_to_it(clip, clip_features, monkeypatch):
    calls = []
    real = scoringkit.extract.audio_features
    monkeypatch.setattr(scoringkit.extract, "audio_features", lambda *a, **k: calls.append(a) or real(*a, **k))
    plain = sk.score_story(TWO_SCENES, min_words=1)
    matched = sk.score_story(TWO_SCENES, min_words=1, reference=clip)
    assert len(calls) == 1 and len(matched.cues) == len(plain.cues) == 2
    for before, after in zip(plain.cues, matched.cues):
        assert abs(after.intent.tempo - clip_features.tempo) < abs(before.intent.tempo - clip_features.tempo)
        assert after.intent.key == after.score.key == "D major"


def test_the_score_command_takes_a_reference(clip, tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text(TWO_SCENES, encoding="utf-8")
    out = tmp_path / "out"
    args = ["score", str(story), "-o", str(out), "--synth", "numpy", "--sr", "8000", "--reference", str(clip)]
    assert main(args + ["--reference-weight", "1"]) == 0
    assert "audio reference at weight 1" in capsys.readouterr().out
    rows = json.loads((out / "cues.json").read_text(encoding="utf-8"))["cues"]
    assert {row["key"] for row in rows} == {"D major"}
    missing = ["score", str(story), "-o", str(tmp_path / "out2"), "-q", "--reference", str(tmp_path / "nope.wav")]
    assert main(missing) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "nope.wav" in err and not (tmp_path / "out2" / "cues.csv").exists()
    assert main(args[:-2] + ["-q", "--force", "--reference", str(clip), "--reference-weight", "1.5"]) == 2


@pytest.mark.parametrize("kwargs,message", [
    ({"reference_weight": 1.5}, r"\[0, 1\]"),
    ({"reference_weight": -0.1}, r"\[0, 1\]"),
    ({"reference_weight": "half"}, r"\[0, 1\]"),
    ({"reference": {"tempo": 120}}, "AudioFeatures or SymbolicFeatures, not dict"),
    ({"reference": [0.0] * 100}, "Score"),
    ({"reference": np.zeros(SR)}, "reference_sr"),
])
def test_bad_reference_arguments_raise_input_errors(kwargs, message):
    with pytest.raises(sk.InputError, match=message):
        sk.emotion_to_intent(SAD, **kwargs)


def test_missing_reference_files_raise_input_errors(tmp_path):
    with pytest.raises(sk.InputError, match="no such"):
        sk.emotion_to_intent(SAD, reference=tmp_path / "missing.wav")
    with pytest.raises(sk.InputError, match="no such MIDI file"):
        sk.emotion_to_intent(SAD, reference=str(tmp_path / "missing.mid"))
    with pytest.raises(sk.InputError, match=r"\[0, 1\]"):
        sk.score_story(TWO_SCENES, reference=tmp_path / "missing.wav", reference_weight=1.5)
