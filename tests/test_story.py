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
