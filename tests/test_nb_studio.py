"""Tests of scoringkit.nb.studio: the plain draft functions and the Studio widget, in the kernel (no browser)."""

from __future__ import annotations

import io
import wave
from datetime import datetime, timezone

import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.nb.studio import decode_text, draft_story, redraft_cue

STORY = """The Harbour

The morning was calm and gentle. Mara walked along the quiet harbour, smiling at the soft light on the water and the sleepy boats.

Then the storm broke. Thunder roared, the waves smashed the pier, and Mara ran screaming as the terrified crowd fled the flood.

At night the town wept. Mara sat alone in the cold, grey silence, grieving for the boats that were lost and the friends who were gone.
"""

SRT = """1
00:00:01,000 --> 00:00:04,000
The morning is calm and gentle on the quiet harbour.

2
00:00:04,500 --> 00:00:08,000
We smile at the soft light and the sleepy boats.

3
00:00:20,000 --> 00:00:23,000
Run! The storm is here, the waves are smashing the pier!

4
00:00:23,500 --> 00:00:27,000
Everyone is screaming, terrified of the flood!
"""


def wav_frames(value) -> int:
    with wave.open(io.BytesIO(bytes(value))) as w:
        assert w.getframerate() == 8000
        return w.getnframes()


def notes(score):
    return [(t.name, t.program, [(n.pitch, n.start, n.duration, n.velocity) for n in t.notes]) for t in score.tracks]


@pytest.fixture
def studio():
    widget = nb.Studio(STORY, backend="lexicon", sr=8000, transition="cut", background=False)
    yield widget
    widget.close()


@pytest.fixture
def scored(studio):
    studio.text.value = STORY
    assert studio.score() is not None, studio.error
    return studio


# -- the plain functions ---------------------------------------------------------------------
@pytest.mark.parametrize("transition, backend", [("pivot", None), ("crossfade", "lexicon"), ("cut", "lexicon")])
def test_draft_story_is_score_story_step_by_step(transition, backend):
    story = sk.example_story()
    seen = []
    options = {} if backend is None else {"backend": backend}  # None: both use score_story's default
    st = draft_story(story, transition=transition, seed=3, on_cue=lambda i, n, cue: seen.append((i, n)),
                     **options).soundtrack()
    ref = sk.score_story(story, transition=transition, seed=3, **options)
    assert st.cue_sheet() == ref.cue_sheet()
    assert notes(st.score) == notes(ref.score) and st.score.tempo_map == ref.score.tempo_map
    assert (st.title, st.transition, st.crossfade) == (ref.title, ref.transition, ref.crossfade)
    assert seen == [(i, len(ref.cues)) for i in range(len(ref.cues))]


def test_draft_story_keeps_subtitle_time_codes():
    st = draft_story(SRT, backend="lexicon", min_words=1).soundtrack()
    ref = sk.score_story(SRT, backend="lexicon", min_words=1)
    assert st.cue_sheet() == ref.cue_sheet()
    assert st.cues[1].start == pytest.approx(20.0)


def test_redraft_cue_recomposes_only_that_cue():
    draft = draft_story(STORY, backend="lexicon", transition="pivot", min_words=1)
    assert len(draft.cues) == 3
    sad = sk.Emotion(-0.8, -0.7)
    new = redraft_cue(draft, 0, emotion=sad, style="lullaby")
    assert new.cues[0].emotion is sad and new.styles == ("lullaby", "film", "film")
    assert new.cues[0].intent.meter == (3, 4)  # the lullaby preset
    assert new.cues[1].score is draft.cues[1].score and new.cues[2].score is draft.cues[2].score
    assert new.cues[1].start == pytest.approx(new.cues[0].end)  # re-tiled after the new length
    assert draft.cues[0].emotion is not sad  # the old draft is unchanged
    with pytest.raises(InputError, match="out of range"):
        redraft_cue(draft, 3)
    with pytest.raises(InputError, match="unknown style"):
        redraft_cue(draft, 0, style="polka")


def test_decode_text_follows_read_text_file(tmp_path):
    path = tmp_path / "story.txt"
    for raw in ["\ufeffA calm sea.".encode("utf-8"), "Crème brûlée.".encode("utf-8")]:
        path.write_bytes(raw)
        assert decode_text(raw, name="story.txt") == sk.read_text_file(path)
    with pytest.raises(InputError, match="not valid utf-8 text.*choose its encoding"):
        decode_text("Crème".encode("latin-1"), name="old.txt")
    assert decode_text("Crème".encode("latin-1"), name="old.txt", encoding="latin-1") == "Crème"
    with pytest.raises(InputError, match="binary"):
        decode_text(b"\x00\x01abc", name="x.png")
    with pytest.raises(InputError, match="empty"):
        decode_text(b"  \n", name="blank.txt")
    with pytest.raises(InputError, match="over the 0.0 MB limit"):
        decode_text(b"abc" * 100, name="big.txt", max_bytes=10)


# -- the widget --------------------------------------------------------------------------------
def test_score_shows_arc_table_and_players(studio):
    studio.backend.value = "lexicon"
    studio.words_per_minute.value = 120
    studio.style.value = "game"
    studio.seed.value = 5
    st = studio.score()
    assert st is studio.soundtrack and studio.error is None
    ref = draft_story(STORY, backend="lexicon", style="game", seed=5, words_per_minute=120,
                      transition="cut").soundtrack()
    assert st.cue_sheet() == ref.cue_sheet()
    n = len(st.cues)
    assert n >= 2
    # arc, table, one player per cue (not normalised: the samples are the render's), the whole mix
    assert [t.name for t in studio.figure.data] == ["valence", "arousal"]
    assert "Emotion arc: The Harbour" in studio.arc_view.outputs[0]["data"]["text/plain"]  # (a kernel adds plotly's JSON)
    assert studio.table_view.value.count("<tr>") == n + 1
    assert len(studio.cue_players) == n
    for player, audio in zip(studio.cue_players, studio.cue_audio):
        assert wav_frames(player.value) == len(audio)
    assert bytes(studio.cue_players[0].value) == nb.audio_player(sk.render(st.cues[0].score, sr=8000), sr=8000).data
    assert wav_frames(studio.whole_player.value) == len(studio.audio) == len(st.render(sr=8000))
    assert studio.progress.value == studio.progress.max == 2 * n + 1
    assert studio.progress.bar_style == "success"
    assert set(studio.timings) == {"scored", "first_audio", "done"}
    assert studio.timings["scored"] <= studio.timings["first_audio"] <= studio.timings["done"]
    assert [value for _, value in studio.cue.options] == list(range(n)) and studio.cue.value == 0
    assert studio.valence.value == round(st.cues[0].emotion.valence, 2)
    assert f"{n} cue(s)" in studio.status.value


@pytest.mark.parametrize("transition", ["cut", "pivot"])
def test_override_recomposes_one_cue(studio, transition):
    studio.transition.value = transition
    before = studio.score()
    old_audio = list(studio.cue_audio)
    last = len(before.cues) - 1
    studio.select(last)
    assert studio.cue.value == last and studio.arousal.value == round(before.cues[last].emotion.arousal, 2)
    after = studio.override(last, 0.7, -0.6)  # the grieving scene, made calm and tender
    assert after is studio.soundtrack and studio.error is None
    cue = after.cues[last]
    assert (cue.emotion.valence, cue.emotion.arousal, cue.emotion.quadrant) == (0.7, -0.6, 4)
    assert cue.intent != before.cues[last].intent and cue.intent.mode == "major"
    assert studio.cue_audio[last] is not old_audio[last]
    for i in range(last):
        assert after.cues[i].emotion == before.cues[i].emotion and after.cues[i].intent == before.cues[i].intent
        if transition == "cut" or i < last - 1:
            assert notes(after.cues[i].score) == notes(before.cues[i].score)
            assert studio.cue_audio[i] is old_audio[i]  # not rendered again
    if transition == "pivot":  # the cue before leads into the new key: its last bar is re-harmonised
        assert notes(after.cues[last - 1].score) != notes(before.cues[last - 1].score)
    assert "✎" in studio._cue_labels[last].value and f"cue {last + 1} re-composed" in studio.status.value
    assert studio.table_view.value.count("<tr>") == len(after.cues) + 1
    # the pad follows the sliders, and the cue's settings stay selected
    assert studio.pad is not None and (studio.pad.valence, studio.pad.arousal) == (0.7, -0.6)


def test_override_with_another_style_keeps_the_emotion(scored):
    emotion = scored.soundtrack.cues[0].emotion
    scored.select(0)
    scored.cue_style.value = "horror"
    scored.rerender_button.click()  # background=False: runs now
    assert scored.error is None
    cue = scored.soundtrack.cues[0]
    assert cue.emotion == emotion  # within half a slider step: the text's emotion (and its probs) stays
    assert "horror" in cue.intent.reasons["tempo"] and scored.draft.styles[0] == "horror"


def test_export_refuses_to_overwrite_silently(scored, tmp_path):
    out = tmp_path / "export"
    paths = scored.export(out)
    assert scored.error is None and scored.paths == paths
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["soundtrack.wav", "soundtrack.mid", "soundtrack.musicxml", "cues.csv", "cues.json"])
    assert "wrote 5 files" in scored.export_status.value and "soundtrack.wav" in scored.export_status.value
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    scored.override(0, -0.5, 0.8)
    assert scored.export() is None  # the same folder, overwrite unticked
    assert "refusing to overwrite" in scored.export_status.value and "overwrite existing files" in scored.export_status.value
    assert scored.error.startswith("refusing to overwrite")
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
    assert scored.soundtrack.cues[0].emotion.quadrant == 2  # the result is still there
    assert scored.export(overwrite=True) is not None and scored.overwrite.value is True
    assert (out / "cues.json").read_bytes() != before["cues.json"][0]


def test_bad_uploads_show_a_message(scored):
    st, text = scored.soundtrack, scored.text.value
    upload = {"name": "old.srt", "type": "text/plain", "size": 7, "last_modified": datetime.now(timezone.utc)}
    scored.upload.value = ({**upload, "content": memoryview("Crème".encode("latin-1"))},)
    assert "not valid utf-8 text" in scored.status.value and "not valid utf-8" in scored.error
    assert scored.text.value == text and scored.soundtrack is st  # nothing changed
    assert scored.upload.value == ()  # cleared, so the same file can be chosen again
    scored.upload.value = ({**upload, "name": "photo.png", "content": memoryview(b"\x89PNG\x00\x00")},)
    assert "binary" in scored.status.value
    scored.encoding.value = "latin-1"
    scored.upload.value = ({**upload, "content": memoryview("Crème brûlée at the calm sea.".encode("latin-1"))},)
    assert scored.error is None and scored.text.value == "Crème brûlée at the calm sea."


def test_srt_upload_scores_at_its_time_codes(studio):
    text = studio.load(("\ufeff" + SRT).encode("utf-8"), name="harbour.srt")
    assert text == SRT and studio.text.value == SRT and "SRT subtitles" in studio.text_info.value
    st = studio.score()
    assert st.title == "harbour" and st.cues[0].start == pytest.approx(1.0)


@pytest.mark.parametrize("text, message", [
    ("   \n ", "the story is empty"),
    ("x " * 2_600_000, "over the 1,000,000 limit"),  # a 5 MB paste
    ("1\n00:00:05,000 --> 00:00:02,000\nBackwards.\n", "ends (2.000 s) before it starts"),
    ("1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\nno time code here\n", "has no time code"),
])
def test_bad_text_shows_a_message_and_keeps_the_result(scored, text, message):
    st, audio = scored.soundtrack, scored.whole_player.value
    assert scored.score(text) is None
    assert message in scored.error and message in scored.status.value
    assert "still the last good ones" in scored.status.value and scored.progress.bar_style == "danger"
    assert scored.soundtrack is st and scored.whole_player.value == audio


def test_bad_options_show_a_message(scored):
    scored.backend.value = "bert"
    assert scored.score() is None and "unknown backend 'bert'" in scored.error
    scored.backend.value = "lexicon"
    assert scored.override(99, 0, 0) is None and "out of range" in scored.error
    assert scored.override(0, 2, 0) is None and "valence" in scored.error
    assert scored.score() is not None and scored.error is None


def test_pressing_a_button_while_busy_is_refused(scored):
    st = scored.soundtrack
    assert scored._busy.acquire(blocking=False)  # as if a job were running
    try:
        scored.score_button.click()
        assert scored.export() is None
    finally:
        scored._busy.release()
    assert "still working" in scored.status.value and scored.soundtrack is st


def test_buttons_work_on_a_background_thread():
    studio = nb.Studio(STORY, backend="lexicon", sr=8000, background=True)
    try:
        studio.score_button.click()
        studio.score_button.click()  # a second click while the first is running: refused or queued, never both
        assert studio.wait(120)
        assert studio.error is None or "still working" in studio.error
        assert studio.soundtrack is not None and studio.cue_players and studio.whole_player.value
        assert not studio.score_button.disabled
    finally:
        studio.close()


def test_nothing_to_export_or_override_yet():
    studio = nb.Studio(sr=8000, background=False)
    try:
        assert studio.backend.value == nb.studio.default_backend()  # score_story's default
        assert studio.export("anywhere") is None and "score a story first" in studio.error
        assert studio.override(0, 0.1, 0.1) is None and "score a story first" in studio.error
        studio.example_button.click()
        assert studio.text.value == sk.example_story()
    finally:
        studio.close()


def test_constructor_rejects_bad_options():
    with pytest.raises(InputError, match="unknown backend"):
        nb.Studio(backend="bert")
    with pytest.raises(InputError, match="unknown style"):
        nb.Studio(style="polka")
    with pytest.raises(InputError, match="sr must be"):
        nb.Studio(sr=100)


def test_encoder_is_loaded_before_the_first_click():
    studio = nb.Studio(STORY, backend="encoder", sr=8000, background=False)
    try:
        assert studio._warm is not None  # loading torch and the model started with the widget
        assert studio.wait(120)
        st = studio.score()
        assert st is not None and {cue.emotion.source for cue in st.cues} == {"encoder"}
    finally:
        studio.close()


def test_slow_backend_plays_the_first_cue_before_the_rest_is_read(monkeypatch):
    calls = []
    import scoringkit.emotion as emotion

    real = emotion.analyze_text

    def counting(texts, **options):
        calls.append(len(texts))
        return real(texts, **options)

    monkeypatch.setattr(emotion, "analyze_text", counting)
    studio = nb.Studio(STORY, backend="encoder", sr=8000, background=False)
    try:
        studio.wait(120)
        calls.clear()
        st = studio.score()
        assert calls == [1, len(st.cues)]  # the first scene alone, then the whole story in one batch
        assert studio.timings["first_audio"] < studio.timings["scored"]
        ref = draft_story(STORY, backend="encoder").soundtrack()
        assert st.cue_sheet() == ref.cue_sheet()  # the same result as without the head start
        for player, cue in zip(studio.cue_players, st.cues):
            assert bytes(player.value) == nb.audio_player(sk.render(cue.score, sr=8000), sr=8000).data
    finally:
        studio.close()


def test_a_failure_after_the_head_start_puts_the_last_result_back(monkeypatch):
    import scoringkit.emotion as emotion
    from scoringkit.errors import ModelError

    studio = nb.Studio(STORY, backend="encoder", sr=8000, background=False)
    try:
        st = studio.score()
        players = [bytes(p.value) for p in studio.cue_players]
        real = emotion.analyze_text

        def failing(texts, **options):
            if len(texts) > 1:
                raise ModelError("the model broke")
            return real(texts, **options)

        monkeypatch.setattr(emotion, "analyze_text", failing)
        assert studio.score() is None and studio.error == "the model broke"
        assert studio.soundtrack is st and [bytes(p.value) for p in studio.cue_players] == players
        assert "cue 1 ·" in studio._cue_labels[0].value and "ready: listen" not in studio._cue_labels[0].value
    finally:
        studio.close()
