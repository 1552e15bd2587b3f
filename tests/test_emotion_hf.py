"""The "hf:" backend, on tiny BERT classifiers built and saved here (no hub access)."""

import math
import warnings

import pytest

import scoringkit as sk
from scoringkit.emotion import analyze_text
from scoringkit.emotion import hf

pytest.importorskip("torch")
pytest.importorskip("transformers")

WORDS = ("the a and of to in was she he it sea calm quiet storm fire ran joy sad angry night day "
         "house dark light rain wind long grass hill moved over").split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?"] + WORDS
MAX_POSITIONS = 24


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def save_tiny_model(folder, *, labels=("joy", "sadness", "anger"), bias=None, problem_type=None, seed=0):
    """A 1-layer BERT classifier and WordPiece tokenizer saved to ``folder``; returns the folder as str."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(vocab_file))
    config = BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=MAX_POSITIONS,
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
        problem_type=problem_type,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    if bias is not None:  # one label dominates whatever the text
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias, dtype=torch.float))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    hf.clear_cache()
    return str(folder)


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("random"))


def test_dominant_label_sets_category_and_quadrant(tmp_path):
    joyful = save_tiny_model(tmp_path / "joy", bias=[8.0, 0.0, 0.0])
    sad = save_tiny_model(tmp_path / "sad", bias=[0.0, 8.0, 0.0])
    happy = analyze_text("the sea was calm .", backend=f"hf:{joyful}")
    assert happy.label == "joy" and happy.probs["joy"] > 0.99 and happy.quadrant == 1
    assert happy.source == f"hf:{joyful}"
    down = analyze_text("the sea was calm .", backend=f"hf:{sad}")
    assert down.label == "sadness" and down.quadrant == 3


def test_valence_arousal_are_the_probability_weighted_mean(tmp_path):
    folder = save_tiny_model(tmp_path / "mix", bias=[math.log(3.0), 0.0, -30.0])  # softmax: joy 0.75, sadness 0.25
    emotion = analyze_text("rain", backend=f"hf:{folder}")
    joy, sadness = hf.LABEL_TABLE["joy"], hf.LABEL_TABLE["sadness"]
    assert emotion.valence == pytest.approx(0.75 * joy[1] + 0.25 * sadness[1], abs=1e-4)
    assert emotion.arousal == pytest.approx(0.75 * joy[2] + 0.25 * sadness[2], abs=1e-4)
    assert emotion.probs["joy"] == pytest.approx(0.75, abs=1e-4)
    assert emotion.probs["anger"] == pytest.approx(0.0, abs=1e-6)


def test_multi_label_models_use_a_sigmoid_per_label(tmp_path):
    folder = save_tiny_model(tmp_path / "multi", bias=[2.0, 0.0, -30.0], problem_type="multi_label_classification")
    probs = hf.label_probabilities(["the night"], folder)[0]
    assert probs["joy"] == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-5)
    assert probs["sadness"] == pytest.approx(0.5, abs=1e-5)
    emotion = analyze_text("the night", backend=f"hf:{folder}")
    expected_joy = probs["joy"] / (probs["joy"] + probs["sadness"] + probs["anger"])
    assert emotion.probs["joy"] == pytest.approx(expected_joy, abs=1e-4)  # ≈ 0.64, where a softmax gives 0.88


def test_list_input_gives_one_emotion_per_text_in_order(random_model):
    texts = ["the storm ran over the hill !", "calm", "she was sad in the dark house ."] * 3
    emotions = analyze_text(texts, backend=f"hf:{random_model}")
    assert len(emotions) == len(texts)
    singles = [analyze_text(t, backend=f"hf:{random_model}") for t in texts[:3]]
    for batched, single in zip(emotions, singles):  # padding in a batch changes nothing
        assert batched.valence == pytest.approx(single.valence, abs=1e-5)
        assert batched.probs == pytest.approx(single.probs, abs=1e-5)


def test_long_text_is_chunked_not_truncated(random_model):
    classifier = hf.load_classifier(random_model)
    assert classifier.max_tokens == MAX_POSITIONS
    sentence = "the wind moved over the long grass of the hill . "
    prefix = sentence * 12  # about 130 tokens, over five windows of 24
    chunks = hf.token_chunks(classifier.tokenizer, prefix + "she was sad .", max_tokens=classifier.max_tokens)
    assert len(chunks) > 4 and all(len(c) <= MAX_POSITIONS for c in chunks)
    assert all(c[0] == VOCAB.index("[CLS]") and c[-1] == VOCAB.index("[SEP]") for c in chunks)
    content = [i for c in chunks for i in c[1:-1]]
    whole = classifier.tokenizer(prefix + "she was sad .", add_special_tokens=False)["input_ids"]
    assert content == whole  # every token lands in exactly one chunk

    rows = []
    hook = classifier.model.register_forward_hook(lambda module, args, kwargs_out: rows.append(1))
    try:
        first = hf.analyze_hf([prefix + "she was sad ."], random_model, batch_size=1)[0]
    finally:
        hook.remove()
    assert len(rows) == len(chunks)  # the model saw every chunk
    second = hf.analyze_hf([prefix + "the fire ran !"], random_model)[0]
    assert (first.valence, first.arousal) != (second.valence, second.arousal)  # the ending counts


def test_one_overlong_sentence_is_cut_into_token_windows(random_model):
    classifier = hf.load_classifier(random_model)
    run_on = " ".join(["the long grass"] * 40)  # no sentence end at all
    chunks = hf.token_chunks(classifier.tokenizer, run_on, max_tokens=10)
    assert all(len(c) <= 10 for c in chunks)
    assert sum(len(c) - 2 for c in chunks) == 120


def test_missing_folder_is_an_input_error_naming_it(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(sk.InputError, match="no_such_model"):
        analyze_text("hello", backend=f"hf:{missing}")
    with pytest.raises(sk.InputError, match="does not exist"):
        analyze_text("hello", backend="hf:./not/here/either")


def test_folder_without_a_model_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(sk.InputError, match="no transformers model in .*empty"):
        analyze_text("hello", backend=f"hf:{tmp_path / 'empty'}")


def test_folder_without_a_tokenizer_is_an_input_error(tmp_path):
    folder = save_tiny_model(tmp_path / "m")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (tmp_path / "m" / name).unlink(missing_ok=True)
    with pytest.raises(sk.InputError, match="tokenizer"):
        analyze_text("hello", backend=f"hf:{folder}")


def test_uncached_hub_id_says_it_needs_internet():
    with pytest.raises(sk.InputError, match="internet") as info:
        analyze_text("hello", backend="hf:scoringkit-tests/no-such-model")
    assert "snapshot_download" in str(info.value)


def test_generic_labels_need_a_label_map(tmp_path):
    folder = save_tiny_model(tmp_path / "generic", labels=("LABEL_0", "LABEL_1"), bias=[5.0, 0.0])
    with pytest.raises(sk.InputError, match="label_map") as info:
        analyze_text("the calm sea", backend=f"hf:{folder}")
    assert "LABEL_0" in str(info.value) and "LABEL_1" in str(info.value)
    emotion = hf.analyze_hf(["the calm sea"], folder, label_map={"LABEL_0": "negative", "label_1": ("joy", 0.9, 0.5)})[0]
    assert emotion.valence < 0 and emotion.label == "sadness"


def test_label_map_entries_are_checked(tmp_path):
    labels = ["LABEL_0", "LABEL_1"]
    with pytest.raises(sk.InputError, match="not one of the model's labels"):
        hf.label_values(labels, label_map={"LABEL_9": "joy"})
    with pytest.raises(sk.InputError, match="not a LABEL_TABLE name"):
        hf.label_values(labels, label_map={"LABEL_0": "glee", "LABEL_1": "joy"})
    with pytest.raises(sk.InputError, match="category"):
        hf.label_values(labels, label_map={"LABEL_0": ("happy", 0.5, 0.5), "LABEL_1": "joy"})
    with pytest.raises(sk.InputError, match="valence"):
        hf.label_values(labels, label_map={"LABEL_0": ("joy", 2.0, 0.5), "LABEL_1": "joy"})


def test_label_table_covers_common_label_sets():
    go_emotions = """admiration amusement anger annoyance approval caring confusion curiosity desire
    disappointment disapproval disgust embarrassment excitement fear gratitude grief joy love nervousness
    optimism pride realization relief remorse sadness surprise neutral""".split()
    others = ["POSITIVE", "NEGATIVE", "neutral", "love", "optimism", "anticipation", "trust", "pessimism",
              "Happiness", "no_emotion", "very negative", "5 stars"]
    values = hf.label_values(go_emotions + others)
    assert len(go_emotions) == 28
    for category, valence, arousal in values:
        assert category in sk.EMOTION_LABELS and -1 <= valence <= 1 and -1 <= arousal <= 1
    table = dict(zip(go_emotions, values))
    assert table["excitement"][2] > table["relief"][2]  # circumplex sanity: excited above relieved
    assert table["grief"][1] < table["disappointment"][1] < 0 < table["gratitude"][1]


def test_non_english_text_warns_once_per_call(random_model):
    with pytest.warns(UserWarning, match="English") as record:
        analyze_text(["Это был очень грустный день.", "Ночь была тёмной."], backend=f"hf:{random_model}")
    assert sum("English" in str(w.message) for w in record) == 1
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*English.*")
        analyze_text("the night was dark and the rain fell .", backend=f"hf:{random_model}")


def test_models_are_loaded_once(random_model):
    assert hf.load_classifier(random_model) is hf.load_classifier(random_model)


def test_bad_batch_size_and_texts(random_model):
    with pytest.raises(sk.InputError, match="batch_size"):
        hf.analyze_hf(["calm"], random_model, batch_size=0)
    with pytest.raises(sk.InputError, match="non-empty"):
        hf.analyze_hf(["calm", ""], random_model)


def test_roberta_style_position_offset_is_respected(tmp_path):
    """RoBERTa reserves two positions (padding index + 1): 26 positions hold 24 tokens."""
    from transformers import BertTokenizer, RobertaConfig, RobertaForSequenceClassification

    folder = tmp_path / "roberta"
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    BertTokenizer(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    config = RobertaConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=37, max_position_embeddings=26, pad_token_id=1,
                           id2label={0: "positive", 1: "negative"}, label2id={"positive": 0, "negative": 1})
    RobertaForSequenceClassification(config).save_pretrained(folder)
    assert hf.load_classifier(str(folder)).max_tokens == 24
    emotion = analyze_text("the wind moved over the long grass of the hill . " * 10, backend=f"hf:{folder}")
    assert emotion.label in ("joy", "sadness")
