"""Tests of scoringkit.nb.pad: the mapping tables and the EmotionPad widget, run in-process."""

from __future__ import annotations

import io
import time
import wave

import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.mapping import QUADRANT_CHOICES, default_table

POINTS = {1: (0.7, 0.7), 2: (-0.7, 0.7), 3: (-0.7, -0.6), 4: (0.6, -0.6)}


def wav_info(value) -> tuple[int, int]:
    """(sample rate, frames) of the WAV bytes in an ipywidgets.Audio value."""
    with wave.open(io.BytesIO(bytes(value))) as w:
        return w.getframerate(), w.getnframes()


@pytest.fixture
def pad():
    widget = nb.EmotionPad(0.6, 0.6, duration=4, debounce=0, estimate=False)
    yield widget
    widget.close()


def test_pad_composes_its_starting_point(pad):
    assert pad.error is None
    assert pad.intent.key == QUADRANT_CHOICES[1]["key"] and pad.emotion.quadrant == 1
    assert pad.intent.tempo > 100
    assert f"{pad.intent.tempo:g} BPM" in pad.table_view.value and "Flute (73)" in pad.table_view.value
    rate, frames = wav_info(pad.player.value)
    assert rate == 22050 and frames == len(pad.audio) > 22050
    assert "quadrant 1" in pad.status.value
    assert pad.player.autoplay is False  # nothing plays before you move the point
    assert len(pad.figure.data) == len([t for t in pad.score.tracks if t.notes])
    assert pad.view.outputs  # the piano roll is shown


@pytest.mark.parametrize("quadrant", [1, 2, 3, 4])
def test_set_point_recomposes_for_each_quadrant(pad, quadrant):
    valence, arousal = POINTS[quadrant]
    score = pad.set_point(valence, arousal)
    assert score is pad.score and pad.error is None
    assert (pad.valence.value, pad.arousal.value) == (valence, arousal)
    assert pad.emotion.quadrant == quadrant
    assert pad.intent.key == QUADRANT_CHOICES[quadrant]["key"]
    assert pad.intent.key in pad.table_view.value
    assert wav_info(pad.player.value)[1] > 0
    assert f"quadrant {quadrant}" in pad.status.value


def test_canvas_pad_and_sliders_are_linked(pad):
    assert pad.pad is not None  # anywidget is installed here
    pad.set_point(-0.4, 0.3)
    assert (pad.pad.valence, pad.pad.arousal) == (-0.4, 0.3)
    pad.pad.valence = 0.25  # as if clicked in the browser
    assert pad.valence.value == 0.25 and pad.emotion.valence == 0.25  # debounce=0: composed at once
    assert pad.player.autoplay is True  # a move plays (the box is ticked)
    pad.autoplay.value = False
    pad.pad.arousal = -0.2
    assert pad.player.autoplay is False


def test_style_and_seed_controls_recompose(pad):
    before = [(n.pitch, n.start) for n in pad.score.track("melody").notes]
    pad.seed.value = 7
    assert [(n.pitch, n.start) for n in pad.score.track("melody").notes] != before
    pad.style.value = "lullaby"
    assert pad.intent.meter == (3, 4) and pad.intent.percussion == 0
    assert "lullaby" in pad.intent.reasons["tempo"] and "lullaby" in pad.status.value


def test_bad_point_is_shown_not_raised_and_keeps_the_last_result(pad):
    score = pad.score
    assert pad.set_point(1.5, 0) is None
    assert pad.error == "valence must lie in [-1, 1], got 1.5"
    assert "⚠" in pad.status.value and "last good result" in pad.status.value
    assert pad.score is score and pad.valence.value == 0.6
    assert pad.set_point(0.1, 0.1) is not None and pad.error is None


def test_failure_inside_the_pipeline_is_shown(pad, monkeypatch):
    import scoringkit.synth

    def broken(*args, **kwargs):
        raise RuntimeError("the synth is on fire")

    monkeypatch.setattr(scoringkit.synth, "render", broken)
    score = pad.score
    assert pad.set_point(-0.5, 0.5) is None
    assert "RuntimeError: the synth is on fire" in pad.error and pad.score is score


def test_edited_table_changes_the_music(pad):
    table = default_table()
    table["linear"]["tempo"] = (60.0, 0.0, 0.0, 48.0, 176.0, "always 60 BPM")
    table["quadrants"][1]["instruments"]["melody"] = 42
    pad.table = table
    pad.update()
    assert pad.intent.tempo == 60 and "always 60 BPM" in pad.table_view.value
    assert pad.score.track("melody").program == 42


def test_debounced_moves_compose_once(monkeypatch):
    pad = nb.EmotionPad(0.2, 0.2, duration=3, debounce=0.15, estimate=False, show=False)
    try:
        assert pad.score is None and "Move the point" in pad.status.value
        calls = []
        original = pad.update
        monkeypatch.setattr(pad, "update", lambda **kw: calls.append(kw) or original(**kw))
        for v in (0.1, 0.2, 0.3, 0.4, -0.5):
            pad.valence.value = v
        deadline = time.monotonic() + 20
        while pad.score is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert calls == [{"play": True}]
        assert pad.emotion.valence == -0.5 and pad.emotion.quadrant == 2
    finally:
        pad.close()


def test_music_emotion_estimate_is_reported():
    pad = nb.EmotionPad(-0.7, -0.6, duration=8, debounce=0)
    try:
        assert pad.heard is not None and pad.heard.source == "music:symbolic"
        assert "music-emotion model hears quadrant" in pad.status.value
    finally:
        pad.close()


@pytest.mark.parametrize("kwargs, message", [
    ({"valence": 1.5}, "valence"),
    ({"style": "disco"}, "style"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"duration": 0}, "duration"),
    ({"duration": 600}, "duration"),
    ({"sr": 1000}, "sr"),
    ({"debounce": -1}, "debounce"),
    ({"table": {"linear": {}}}, "table"),
])
def test_bad_arguments_are_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        nb.EmotionPad(show=False, **kwargs)


# -- tables -----------------------------------------------------------------------------------
def test_mapping_table_lists_rules_quadrants_and_values():
    text = nb.mapping_table().data
    for name in ("tempo", "register", "velocity", "density", "articulation", "tension"):
        assert f"<b>{name}</b>" in text
    for choice in QUADRANT_CHOICES.values():
        assert choice["key"] in text and choice["harmony"] in text
    # tempo in the middle of quadrant 1: 94 + 8 * 0.6 + 40 * 0.6 = 122.8
    assert ">123</td>" in text


def test_mapping_table_shows_an_edited_table_and_rejects_a_broken_one():
    table = default_table()
    table["quadrants"][3]["key"] = "E minor"
    assert "E minor" in nb.mapping_table(table).data
    table["linear"]["tempo"] = (90, 0, 40, 48, 400, "too fast")
    with pytest.raises(InputError, match="tempo"):
        nb.mapping_table(table)
    with pytest.raises(InputError, match="at must"):
        nb.mapping_table(at=2)


def test_intent_table_one_and_many():
    film = sk.emotion_to_intent(sk.Emotion(0.5, 0.5))
    game = sk.emotion_to_intent(sk.Emotion(0.5, 0.5), style="game")
    one = nb.intent_table(film).data
    assert "reason" in one and film.reasons["tempo"] in one and "quadrant 1" in one
    many = nb.intent_table({"film": film, "game": game}).data
    assert "<th>film</th>" in many and "<th>game</th>" in many and "<th>reason</th>" not in many
    assert "<b>Lead 1 (square) (80)</b>" in many  # the game's melody instrument differs: bold
    assert "<b>Flute (73)</b>" not in many
    with pytest.raises(InputError):
        nb.intent_table("tempo 120")
    with pytest.raises(InputError):
        nb.intent_table([])


# -- the pad's JavaScript, run in Node.js against a stand-in canvas and model ----------------
JS_HARNESS = r"""
import mod from "./pad.mjs";
const listeners = {};
const ctx = new Proxy({}, { get: (t, k) => (k in t ? t[k] : () => {}), set: (t, k, v) => { t[k] = v; return true; } });
const canvas = { style: {}, setAttribute() {}, getContext: () => ctx, setPointerCapture() {},
  addEventListener: (name, fn) => { listeners[name] = fn; },
  getBoundingClientRect: () => ({ left: 0, top: 0, width: 260, height: 260 }) };
globalThis.document = { createElement: () => canvas };
globalThis.window = { devicePixelRatio: 2 };
const state = { valence: 0.5, arousal: 0.5, size: 260, colours: {}, names: {} };
let saved = 0;
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes: () => { saved++; },
  on() {}, off() {} };
const cleanup = mod.render({ model, el: { appendChild() {} } });
listeners.pointerdown({ clientX: 0, clientY: 0, pointerId: 1 });
listeners.pointerup({ clientX: 260, clientY: 260 });
const dragged = [state.valence, state.arousal];
listeners.keydown({ key: "ArrowUp", shiftKey: false, preventDefault() {} });
cleanup();
console.log(JSON.stringify({ dragged, after_key: [state.valence, state.arousal], saved }));
"""


def test_pad_javascript_sends_the_point(tmp_path):
    import json
    import shutil
    import subprocess

    from scoringkit.nb.pad import _PAD_ESM

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    (tmp_path / "pad.mjs").write_text(_PAD_ESM, encoding="utf-8")
    (tmp_path / "harness.mjs").write_text(JS_HARNESS, encoding="utf-8")
    run = subprocess.run([node, "harness.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["dragged"] == [1, -1]  # the bottom-right corner: pleasant, calm
    assert result["after_key"] == [1, -0.95] and result["saved"] == 2
