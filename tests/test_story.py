import pytest

import scoringkit as sk
from scoringkit.emotion.story import split_sentences


def test_paragraphs_become_scenes():
    story = "First calm part of the story.\n\nSecond part, much darker.\n\nThird and last."
    scenes = sk.segment_story(story, min_words=1)
    assert [s.text for s in scenes] == ["First calm part of the story.", "Second part, much darker.", "Third and last."]
    assert [s.index for s in scenes] == [0, 1, 2]


def test_short_paragraphs_merge_but_not_across_scene_breaks():
    story = "Short one.\n\nShort two.\n\n***\n\nAfter the break."
    scenes = sk.segment_story(story, min_words=5)
    assert [s.text for s in scenes] == ["Short one. Short two.", "After the break."]


def test_long_paragraph_splits_at_sentences():
    sentence = "The wind moved over the long grass of the hill. "
    scenes = sk.segment_story(sentence * 40, max_words=50, min_words=1)
    assert len(scenes) > 1
    assert all(s.words <= 50 for s in scenes)
    assert all(s.text.endswith(".") for s in scenes)
    assert " ".join(s.text for s in scenes).split() == (sentence * 40).split()


def test_windows_crlf_line_endings():
    scenes = sk.segment_story("One part here.\r\n\r\nTwo part there.", min_words=1)
    assert len(scenes) == 2


def test_split_sentences():
    assert split_sentences('He said "Stop!" Then he left. Why? Mr. Lee knew.') == [
        'He said "Stop!"', "Then he left.", "Why?", "Mr. Lee knew."]


@pytest.mark.parametrize("bad", ["", "  \n\n ", None, 12, b"bytes"])
def test_empty_or_wrong_type_story_is_an_input_error(bad):
    with pytest.raises(sk.InputError):
        sk.segment_story(bad)


def test_oversized_story_is_refused_and_the_limit_can_be_lifted():
    text = "word " * 1_000_000  # 5 MB
    with pytest.raises(sk.InputError, match="max_chars"):
        sk.segment_story(text)
    assert len(sk.segment_story("word " * 300, max_chars=10_000)) >= 2


def test_example_story_has_several_scenes():
    assert len(sk.segment_story(sk.example_story())) >= 5


def test_a_title_line_becomes_the_first_heading_not_scene_text():
    scenes = sk.segment_story("The Night Ferry\n\nThe old ferry left the harbour at dusk.\n\nThen the fog came.", min_words=1)
    assert scenes[0].heading == "The Night Ferry"
    assert scenes[0].text == "The old ferry left the harbour at dusk."
    assert sk.score_story("The Night Ferry\n\nThe old ferry left at dusk.", min_words=1).title == "The Night Ferry"


def test_a_first_sentence_is_not_mistaken_for_a_title():
    scenes = sk.segment_story("It rained.\n\nThen the sun came out over the hills.", min_words=1)
    assert scenes[0].text == "It rained." and scenes[0].heading is None


SRT = """1
00:00:01,000 --> 00:00:03,500
<i>The harbour is quiet tonight.</i>

2
00:00:04,000 --> 00:00:06,000
The boats are all home.

3
00:00:20,000 --> 00:00:22,250
Fire! The warehouse is burning!

4
00:00:22,500 --> 00:00:25,000
Run, everyone, run!
"""

SCREENPLAY = """FADE IN:

INT. LIGHTHOUSE - DAY

Mara polishes the lens, humming softly.

EXT. JETTY - NIGHT

Waves smash the jetty. TOMAS runs toward the launch.

TOMAS
There's no time!
"""


def test_srt_scenes_keep_time_codes_and_split_at_long_pauses():
    scenes = sk.segment_story(SRT, min_words=1)
    assert [(s.start, s.end) for s in scenes] == [(1.0, 6.0), (20.0, 25.0)]
    assert scenes[0].text == "The harbour is quiet tonight. The boats are all home."
    assert "<i>" not in scenes[0].text


def test_srt_windows_and_crlf_and_bom():
    text = "\ufeff" + SRT.replace("\n", "\r\n")
    assert len(sk.segment_story(text, min_words=1)) == 2
    assert len(sk.segment_story(SRT, min_words=1, max_words=8)) >= 3


@pytest.mark.parametrize("bad,message", [
    ("1\n00:00:05,000 --> 00:00:01,000\nBackwards.\n", "before it starts"),
    ("1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\nno time code here\n", "no time code"),
    ("1\n00:00:01,000 --> 00:00:02,000\n\n", "no text"),
])
def test_malformed_srt_is_an_input_error(bad, message):
    with pytest.raises(sk.InputError, match=message):
        sk.segment_story(bad, format="srt")


def test_screenplay_scenes_start_at_headings():
    scenes = sk.segment_story(SCREENPLAY)
    assert [s.heading for s in scenes] == [None, "INT. LIGHTHOUSE - DAY", "EXT. JETTY - NIGHT"]
    assert scenes[2].text.startswith("Waves smash the jetty.") and "There's no time!" in scenes[2].text


def test_format_can_be_forced_and_unknown_formats_are_refused():
    assert sk.segment_story("INT. HOUSE - DAY\n\nQuiet.", format="prose", min_words=1)[0].heading == "INT. HOUSE - DAY"
    with pytest.raises(sk.InputError, match="'srt'"):
        sk.segment_story("text", format="fountain")
