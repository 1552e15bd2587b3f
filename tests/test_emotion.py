import warnings

import pytest

import scoringkit as sk
from scoringkit.emotion import MAX_TEXT_CHARS



@pytest.mark.parametrize("text,quadrant", [
    ("We laughed and danced all night, so happy!", 1),
    ("Run! The house is on fire and everyone is screaming!", 2),
    ("She wept at the grave, alone and grieving.", 3),
    ("A calm, quiet morning; the lake was still and peaceful.", 4),
])
def test_lexicon_places_clear_texts_in_their_quadrant(text, quadrant):
    assert sk.analyze_text(text, backend="lexicon").quadrant == quadrant


def test_lexicon_categories_name_the_obvious_emotion(sad_story, joyful_story):
    assert sk.analyze_text(sad_story, backend="lexicon").label == "sadness"
    assert sk.analyze_text(joyful_story, backend="lexicon").label == "joy"
    assert sk.analyze_text("He was furious and screamed in rage.", backend="lexicon").label == "anger"


def test_negation_lowers_valence():
    plain = sk.analyze_text("I am happy.", backend="lexicon")
    negated = sk.analyze_text("I am not happy.", backend="lexicon")
    assert negated.valence < 0 < plain.valence


def test_plain_narration_is_mostly_neutral():
    e = sk.analyze_text("The table is made of wood and stands in the corner of the room.", backend="lexicon")
    assert e.label == "neutral"


def test_list_input_gives_one_emotion_per_text():
    out = sk.analyze_text(["Joy!", "Grief.", "A chair."], backend="lexicon")
    assert len(out) == 3 and all(isinstance(e, sk.Emotion) for e in out)


@pytest.mark.parametrize("bad", ["", "   \n\t", 42, None, ["ok", ""], ["ok", 3], {"a": 1}])
def test_bad_text_is_an_input_error(bad):
    with pytest.raises(sk.InputError):
        sk.analyze_text(bad, backend="lexicon")


def test_huge_text_is_refused_with_a_way_out():
    with pytest.raises(sk.InputError, match="segment_story"):
        sk.analyze_text("a" * (MAX_TEXT_CHARS + 1), backend="lexicon")


@pytest.mark.parametrize("backend", ["bert", "", None, "LEXICON"])
def test_unknown_backend_lists_the_valid_ones(backend):
    with pytest.raises(sk.InputError, match="'lexicon'"):
        sk.analyze_text("hello", backend=backend)


def test_the_encoder_is_the_default_backend():
    from scoringkit.emotion import DEFAULT_BACKEND

    assert DEFAULT_BACKEND == "encoder"
    import inspect

    from scoringkit.nb.studio import default_backend

    for function in (sk.score_story, sk.nb.TextEmotionWidget):  # one default everywhere
        assert inspect.signature(function).parameters["backend"].default == DEFAULT_BACKEND
    assert default_backend() == DEFAULT_BACKEND
    text = "The storm broke over the harbour and the sailors screamed."
    assert sk.analyze_text(text) == sk.analyze_text(text, backend="encoder")
    assert sk.analyze_text(text).source != sk.analyze_text(text, backend="lexicon").source


@pytest.mark.parametrize("backend", ["lexicon", "encoder"])
def test_non_english_text_warns_that_accuracy_is_for_english(backend):
    german = "Der Sturm brach über die Bucht herein, und alle Boote lagen still im Hafen, leer und kalt."
    with pytest.warns(UserWarning, match="do not look like English") as record:
        sk.analyze_text(["A calm sea.", german, "Это был очень грустный день."], backend=backend)
    assert len(record) == 1 and "2 of 3 texts (the first is item 1) do not" in str(record[0].message)
    with pytest.warns(UserWarning, match="^the text does not look like English"):
        sk.analyze_text(german, backend=backend)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*English.*")
        sk.analyze_text("The night was dark and the rain fell on the empty street.", backend=backend)
