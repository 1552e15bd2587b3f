"""Listening tests: trials, the results file that never loses answers, the summary, the statistics, the widget."""

import csv
import dataclasses
import io
import math
import wave

import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.fuse import listening as L
from scoringkit.fuse import stats

STORY = ("The meadow was calm and quiet under the evening sun.\n\n"
         "Then the wolves attacked, howling with rage and fury!\n\n"
         "She wept alone by the grave, grieving in the cold grey rain.\n\n"
         "At last the village danced and laughed with joy!")


@pytest.fixture(scope="module")
def soundtracks():
    kwargs = {"min_words": 1, "min_cue": 4, "max_cue": 4}
    return sk.score_story(STORY, **kwargs), sk.score_story(STORY, seed=11, **kwargs)


@pytest.fixture(scope="module")
def trials(soundtracks):
    return L.listening_trials({"plain": soundtracks[0], "other": soundtracks[1]}, seed=0)


def answer(trial, rater="ann", **overrides):
    values = {"rating_a": 4, "rating_b": 2, "heard_a": "Q1", "heard_b": "Q3", "preference": "A", **overrides}
    return trial.answer(rater=rater, answered_at="2024-05-01T10:00:00+00:00", **values)


# -- statistics ------------------------------------------------------------------------------------

def test_wilson_interval_known_numbers():
    # Wilson (1927) score interval at 95 %, z = 1.959964; values as in Newcombe (1998), Table I
    assert stats.wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=5e-5)
    assert stats.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert stats.wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=5e-5)
    assert stats.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert stats.wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    low90, high90 = stats.wilson_interval(8, 10, confidence=0.90)
    assert 0.4902 < low90 and high90 < 0.9433  # a lower confidence gives a narrower interval
    assert all(math.isnan(x) for x in stats.wilson_interval(0, 0))
    with pytest.raises(InputError, match="cannot exceed"):
        stats.wilson_interval(11, 10)
    with pytest.raises(InputError, match="confidence"):
        stats.wilson_interval(1, 2, confidence=95)


def test_mean_interval_matches_scipy():
    from scipy import stats as scipy_stats

    ratings = [4, 5, 3, 4, 2, 5, 4]
    r = stats.mean_interval(ratings)
    low, high = scipy_stats.t.interval(0.95, len(ratings) - 1, loc=sum(ratings) / 7,
                                       scale=scipy_stats.sem(ratings))
    assert (r["low"], r["high"]) == pytest.approx((low, high))
    assert math.isnan(stats.mean_interval([3])["low"]) and stats.mean_interval([])["n"] == 0


@pytest.mark.parametrize("k, n, p", [(9, 10, 0.5), (3, 17, 0.3), (0, 5, 0.5), (12, 40, 0.25), (20, 20, 0.5)])
def test_binomial_p_value_matches_scipy(k, n, p):
    from scipy.stats import binomtest

    assert stats.binomial_p_value(k, n, p=p) == pytest.approx(binomtest(k, n, p).pvalue, rel=1e-9)


def test_fleiss_kappa_known_example():
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert stats.fleiss_kappa(table) == pytest.approx(0.20993, abs=1e-4)
    assert stats.percent_agreement(table) == pytest.approx(0.37802, abs=1e-4)
    assert stats.fleiss_kappa([[2, 0], [0, 2]]) == pytest.approx(1.0)
    assert math.isnan(stats.fleiss_kappa([[2, 0], [2, 0]]))  # one category only: undefined
    assert math.isnan(stats.fleiss_kappa([[1, 0]]))          # one rater: undefined


# -- trials ----------------------------------------------------------------------------------------

def test_trials_pair_the_same_scenes_in_random_order(trials, soundtracks):
    assert len(trials) == 4
    assert sorted(t.scene_index for t in trials) == [0, 1, 2, 3]
    orders = {t.conditions for t in trials}
    assert orders <= {("plain", "other"), ("other", "plain")}
    for t in trials:
        cue = soundtracks[0].cues[t.scene_index]
        assert t.scene == cue.scene.text and t.emotion == cue.emotion
        plain_score = t.scores[t.conditions.index("plain")]
        assert plain_score is cue.score
    # the coin and the shuffle follow the seed
    again = L.listening_trials({"plain": soundtracks[0], "other": soundtracks[1]}, seed=0)
    assert [(t.trial_id, t.conditions) for t in again] == [(t.trial_id, t.conditions) for t in trials]
    many = [L.listening_trials({"plain": soundtracks[0], "other": soundtracks[1]}, seed=s) for s in range(8)]
    assert len({tuple(t.conditions for t in ts) for ts in many}) > 1
    assert all(sorted(t.trial_id for t in ts) == sorted(t.trial_id for t in trials) for ts in many)


def test_trials_bad_input(soundtracks):
    a, b = soundtracks
    with pytest.raises(InputError, match="exactly two"):
        L.listening_trials({"a": a})
    with pytest.raises(InputError, match="3 cues"):
        L.listening_trials({"a": a, "b": b.cues[:3]})
    other_scene = dataclasses.replace(b.cues[1], scene=dataclasses.replace(b.cues[1].scene, text="Something else."))
    with pytest.raises(InputError, match="different scenes"):
        L.listening_trials({"a": a, "b": [b.cues[0], other_scene, *b.cues[2:]]})
    with pytest.raises(InputError, match="Soundtrack or a list of Cues"):
        L.listening_trials({"a": a, "b": ["not a cue"]})


def test_answers_are_checked(trials):
    with pytest.raises(InputError, match="rating_a"):
        answer(trials[0], rating_a=6)
    with pytest.raises(InputError, match="heard_b"):
        answer(trials[0], heard_b="Q5")
    with pytest.raises(InputError, match="preference"):
        answer(trials[0], preference="both")
    assert answer(trials[0], heard_a=2, heard_b="sadness")["heard_a"] == "Q2"


# -- the results file ------------------------------------------------------------------------------

def test_append_keeps_earlier_rows(tmp_path, trials):
    path = tmp_path / "results" / "answers.csv"
    L.append_answers(path, answer(trials[0]))
    first = path.read_bytes()
    L.append_answers(path, [answer(trials[1]), answer(trials[2], rater="bo")])
    rows = L.read_answers(path)
    assert [(r["trial_id"], r["rater"]) for r in rows] == [
        (trials[0].trial_id, "ann"), (trials[1].trial_id, "ann"), (trials[2].trial_id, "bo")]
    assert rows[0] == answer(trials[0])                          # typed values survive the round trip
    assert path.read_bytes().startswith(first)                   # the old content is kept as it was
    assert (tmp_path / "results" / "answers.csv.bak").read_bytes() == first  # the previous version
    L.append_answers(path, answer(trials[3]))
    assert len(L.read_answers(path)) == 4 and len(L.read_answers(str(path) + ".bak")) == 3
    assert not list(path.parent.glob(".*.tmp"))                  # no temporary files left behind


def test_a_bad_answer_writes_nothing(tmp_path, trials):
    path = tmp_path / "answers.csv"
    L.append_answers(path, answer(trials[0]))
    before = path.read_bytes()
    bad = dict(answer(trials[1]), rating_b=0)
    with pytest.raises(InputError, match="rating_b"):
        L.append_answers(path, [answer(trials[2]), bad])
    assert path.read_bytes() == before


def test_scene_text_with_commas_quotes_and_newlines_round_trips(tmp_path, trials):
    path = tmp_path / "answers.csv"
    row = dict(answer(trials[0]), scene='She said, "Run!"\nAnd they ran; ünïcødé ✓')
    L.append_answers(path, row)
    assert L.read_answers(path)[0]["scene"] == row["scene"]


CORRUPT = {
    "not a results file": b"name,score\nann,3\n",
    "truncated row": None,   # filled in below from a valid file
    "rating out of range": None,
    "not utf-8": b"\xff\xfe\x00garbage",
    "unterminated quote": None,
}


def _corrupt(kind, valid: bytes) -> bytes:
    if CORRUPT[kind] is not None:
        return CORRUPT[kind]
    text = valid.decode("utf-8")
    if kind == "truncated row":
        return text[: text.rindex(",")].encode("utf-8")
    if kind == "rating out of range":
        table = list(csv.reader(io.StringIO(text, newline="")))
        table[1][L.LISTENING_FIELDS.index("rating_a")] = "9"
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(table)
        return out.getvalue().encode("utf-8")
    return (text + '01-abc,"never closed\r\n').encode("utf-8")


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_corrupt_file_is_kept_backed_up_and_refused(tmp_path, trials, kind):
    scratch = tmp_path / "valid.csv"
    L.append_answers(scratch, answer(trials[0], rater="x,y"))   # a quoted field in the valid file
    path = tmp_path / "answers.csv"
    broken = _corrupt(kind, scratch.read_bytes())
    path.write_bytes(broken)
    with pytest.raises(InputError) as info:
        L.append_answers(path, answer(trials[1]))
    message = str(info.value)
    assert "left unchanged" in message and "nothing was written" in message
    assert path.read_bytes() == broken                           # the original is untouched
    copies = list(tmp_path.glob("answers.corrupt-*.csv"))
    assert len(copies) == 1 and copies[0].read_bytes() == broken  # ... and a copy kept beside it
    assert str(copies[0]) in message
    # trying again does not pile up copies, and reading refuses without writing anything
    with pytest.raises(InputError):
        L.append_answers(path, answer(trials[1]))
    assert len(list(tmp_path.glob("answers.corrupt-*.csv"))) == 1
    with pytest.raises(InputError):
        L.summarize_listening(path)
    assert path.read_bytes() == broken and not (tmp_path / "answers.csv.bak").exists()


def test_rating_out_of_range_names_the_row(tmp_path, trials):
    scratch = tmp_path / "valid.csv"
    L.append_answers(scratch, answer(trials[0]))
    path = tmp_path / "answers.csv"
    path.write_bytes(_corrupt("rating out of range", scratch.read_bytes()))
    with pytest.raises(InputError, match="row 2: rating_a"):
        L.read_answers(path)


# -- the summary -----------------------------------------------------------------------------------

def test_summary_numbers(tmp_path, trials):
    path = tmp_path / "answers.csv"
    rows = []
    for t in trials:  # ann always prefers "plain" and rates it 5, hears the intended quadrant in it
        plain_side = "a" if t.conditions[0] == "plain" else "b"
        other_side = "b" if plain_side == "a" else "a"
        q = f"Q{t.emotion.quadrant}"
        wrong = f"Q{t.emotion.quadrant % 4 + 1}"
        for rater in ("ann", "bo"):
            rows.append(answer(t, rater=rater, **{f"rating_{plain_side}": 5, f"rating_{other_side}": 2,
                                                  f"heard_{plain_side}": q, f"heard_{other_side}": wrong,
                                                  "preference": plain_side.upper()}))
    rows.append(answer(trials[0], rater="bo", rating_a=1, rating_b=1, preference="none"))  # bo changes one mind
    L.append_answers(path, rows[:3])
    L.append_answers(path, rows[3:])
    s = L.summarize_listening(path)
    assert s["n_rows"] == 9 and s["n_answers"] == 8 and s["replaced"] == 1
    assert s["raters"] == ["ann", "bo"] and s["trials"] == 4
    plain, other = s["conditions"]["plain"], s["conditions"]["other"]
    assert plain["ratings"] == 8 and plain["mean_rating"] == pytest.approx((7 * 5 + 1) / 8)
    assert other["mean_rating"] == pytest.approx((7 * 2 + 1) / 8)
    low, high = plain["rating_ci"]
    assert low < plain["mean_rating"] < high
    changed = L.read_answers(path)[-1]
    bo_plain_correct = changed["heard_a" if changed["condition_a"] == "plain" else "heard_b"] == \
        f"Q{changed['intended_quadrant']}"
    assert plain["identified"] == 7 + bo_plain_correct
    assert plain["accuracy_ci"] == pytest.approx(stats.wilson_interval(plain["identified"], 8))
    assert other["identified"] == (1 if changed["heard_a" if changed["condition_a"] == "other" else "heard_b"]
                                   == f"Q{changed['intended_quadrant']}" else 0)
    (pref,) = s["preferences"]
    assert pref["conditions"] == ("other", "plain")
    assert pref["wins"] == {"other": 0, "plain": 7} and pref["none"] == 1 and pref["trials"] == 8
    assert pref["share"] == 0.0 and pref["p_value"] == pytest.approx(2 / 2**7)
    agreement = s["agreement"]
    assert agreement["raters"] == 2 and agreement["preference_items"] == 4
    assert agreement["preference_agreement"] == pytest.approx(3 / 4)
    text = L.listening_markdown(s)
    assert "| plain |" in text and "kappa" in text and "1 earlier answers replaced" in text


def test_summary_of_one_rater_has_no_agreement(tmp_path, trials):
    path = tmp_path / "answers.csv"
    L.append_answers(path, [answer(t) for t in trials])
    s = L.summarize_listening(path)
    assert s["agreement"] is None and s["n_answers"] == 4


def test_summary_of_nothing(tmp_path):
    with pytest.raises(InputError, match="no listening results"):
        L.summarize_listening(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="no answers"):
        L.summarize_listening(tmp_path / "empty.csv")


def test_listening_figure(tmp_path, trials):
    path = tmp_path / "answers.csv"
    L.append_answers(path, [answer(t) for t in trials])
    fig = nb.listening_figure(L.summarize_listening(path))
    assert [t.name for t in fig.data] == ["fit rating", "identified"]
    assert sorted(fig.data[0].x) == ["other", "plain"]
    with pytest.raises(InputError):
        nb.listening_figure({"nope": 1})


# -- the widget --------------------------------------------------------------------------------------

def wav_rate(value) -> int:
    with wave.open(io.BytesIO(bytes(value))) as w:
        return w.getframerate()


@pytest.fixture
def test_widget(tmp_path, trials):
    widget = nb.ListeningTest(trials, tmp_path / "answers.csv", rater="ann", synth="numpy")
    yield widget
    widget.close()


def test_widget_shows_a_blind_trial(test_widget, trials):
    w = test_widget
    assert w.index == 0 and w.error is None
    assert all(wav_rate(p.value) == 22050 for p in w.players)
    assert trials[0].trial_id in w.header.value and "Trial 1 of 4" in w.header.value
    first_words = " ".join(trials[0].scene.split()[:3])
    assert first_words in w.scene_view.value
    shown = " ".join(str(getattr(c, "value", "")) for c in w.widget.children)
    assert "plain" not in shown and "other" not in shown          # the settings stay hidden
    assert [v for _, v in w.heard_menus[0].options] == [None, "Q1", "Q2", "Q3", "Q4"]


def test_widget_saves_each_answer_and_keeps_earlier_ones(test_widget, tmp_path, trials):
    w = test_widget
    path = tmp_path / "answers.csv"
    w.set_answer(rating_a=4, rating_b=2, heard_a="Q1", heard_b=3, preference="A")
    row = w.next()
    assert row is not None and w.error is None and w.index == 1
    assert "saved" in w.status.value
    first = L.read_answers(path)
    assert len(first) == 1 and first[0]["trial_id"] == trials[0].trial_id and first[0]["heard_b"] == "Q3"
    assert w.ratings[0].value is None and w.preference.value is None  # cleared for the next trial
    w.set_answer(rating_a=3, rating_b=3, heard_a="Q2", heard_b="Q2", preference="none")
    w.next_button.click()                                           # the button does the same
    rows = L.read_answers(path)
    assert len(rows) == 2 and rows[0] == first[0] and rows[1]["preference"] == "none"
    assert len(w.saved) == 2


def test_widget_refuses_missing_answers(test_widget, tmp_path):
    w = test_widget
    w.set_answer(rating_a=4, heard_a="Q1", preference="B")
    assert w.next() is None
    assert "the fit of B" in w.error and "the emotion heard in B" in w.error and "⚠" in w.status.value
    assert w.index == 0 and not (tmp_path / "answers.csv").exists()
    assert w.ratings[0].value == 4                                  # what was chosen stays chosen
    with pytest.raises(InputError, match="rating_b"):
        w.set_answer(rating_b=7)


def test_widget_with_a_corrupt_file(tmp_path, trials):
    path = tmp_path / "answers.csv"
    path.write_text("this,is\nnot,it\n", encoding="utf-8")
    w = nb.ListeningTest(trials, path, rater="ann", synth="numpy")
    try:
        assert w.error and "left unchanged" in w.error                 # shown at once, not raised
        w.set_answer(rating_a=4, rating_b=2, heard_a="Q1", heard_b="Q3", preference="A")
        assert w.next() is None and "left unchanged" in w.error and w.index == 0
        assert path.read_text(encoding="utf-8") == "this,is\nnot,it\n"
        assert len(list(tmp_path.glob("answers.corrupt-*.csv"))) == 1
        assert w.ratings[0].value == 4                                 # the answer is still on screen
        path.unlink()                                                  # the user moves the bad file away
        assert w.next() is not None and w.error is None and len(L.read_answers(path)) == 1
    finally:
        w.close()


def test_widget_resumes_and_finishes(tmp_path, trials):
    path = tmp_path / "answers.csv"
    L.append_answers(path, [answer(trials[0]), answer(trials[1], rater="bo")])
    w = nb.ListeningTest(trials, path, rater="ann", synth="numpy")
    try:
        assert w.index == 1 and "already answered" in w.status.value
        for _ in range(3):
            w.set_answer(rating_a=3, rating_b=4, heard_a="Q4", heard_b="Q4", preference="B")
            assert w.next() is not None
        assert w.index == 4 and "All 4 trials done" in w.header.value and w.next_button.disabled
        assert w.next() is None and "done" in w.error
        assert len(L.read_answers(path)) == 5
        assert sorted(r["trial_id"] for r in L.read_answers(path) if r["rater"] == "ann") == \
            sorted(t.trial_id for t in trials)
    finally:
        w.close()


def test_widget_bad_construction(tmp_path, trials):
    with pytest.raises(InputError, match="rater"):
        nb.ListeningTest(trials, tmp_path / "a.csv", rater=" ")
    with pytest.raises(InputError, match="trials"):
        nb.ListeningTest([], tmp_path / "a.csv", rater="ann")
    with pytest.raises(InputError, match="quadrant"):
        nb.ListeningTest(trials, tmp_path / "a.csv", rater="ann", heard="colour")


def test_widget_label_scale(tmp_path, trials):
    w = nb.ListeningTest(trials[:1], tmp_path / "a.csv", rater="ann", heard="label", synth="numpy")
    try:
        assert [v for _, v in w.heard_menus[1].options][1:] == list(sk.EMOTION_LABELS)
        w.set_answer(rating_a=2, rating_b=5, heard_a="fear", heard_b="joy", preference="B")
        assert w.next()["heard_a"] == "fear"
    finally:
        w.close()
