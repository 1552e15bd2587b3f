"""Evaluation reports: the quadrant confusion of a generator, metric tables and their figures."""

import math

import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.fuse import METRIC_NAMES, metric_table, metric_table_markdown, quadrant_confusion


@pytest.fixture(scope="module")
def plain():
    return quadrant_confusion("rules", seeds=3, duration=6)


def test_confusion_rows_sum_to_the_seeds(plain):
    assert plain["labels"] == ["Q1", "Q2", "Q3", "Q4"]
    assert [sum(row) for row in plain["confusion"]] == [3, 3, 3, 3]
    assert plain["n"] == 12 and plain["seeds"] == [0, 1, 2]
    diagonal = sum(plain["confusion"][i][i] for i in range(4))
    assert plain["accuracy"] == pytest.approx(diagonal / 12)
    assert plain["per_quadrant"] == {q: plain["confusion"][q - 1][q - 1] / 3 for q in (1, 2, 3, 4)}
    low, high = plain["accuracy_ci"]
    assert 0 <= low <= plain["accuracy"] <= high <= 1
    assert 0 <= plain["mean_match"] <= 1 and plain["seconds"] > 0
    assert plain["name"] == "rules"


def test_confusion_with_a_seed_list_rerank_and_style():
    result = quadrant_confusion("rules", seeds=[4, 9], duration=6, candidates=2, style="horror")
    assert [sum(row) for row in result["confusion"]] == [2, 2, 2, 2]
    assert result["seeds"] == [4, 9] and result["candidates"] == 2 and result["style"] == "horror"
    assert result["name"] == "rules + rerank ×2 · horror"
    # the same call gives the same matrix: everything is seeded
    again = quadrant_confusion("rules", seeds=[4, 9], duration=6, candidates=2, style="horror")
    assert again["confusion"] == result["confusion"]


def test_side_accuracies_follow_the_matrix():
    # horror pushes calm/happy targets toward the tense side, so the matrix is not diagonal
    result = quadrant_confusion("rules", seeds=2, duration=6, style="horror")
    c = result["confusion"]
    high_arousal = (0, 1)
    agree = sum(c[t][e] for t in range(4) for e in range(4) if (t in high_arousal) == (e in high_arousal))
    assert result["arousal_accuracy"] == pytest.approx(agree / result["n"])
    assert result["accuracy"] <= result["arousal_accuracy"] and result["accuracy"] <= result["valence_accuracy"]


@pytest.mark.parametrize("kwargs, words", [
    ({"generator": "mozart"}, "rules"),
    ({"style": "polka"}, "horror"),
    ({"seeds": 0}, "seeds"),
    ({"seeds": []}, "seeds"),
    ({"seeds": [1, 2.5]}, "integers"),
    ({"candidates": 0}, "candidates"),
    ({"targets": {1: (0.5, 0.5), 2: (-0.5, 0.5), 3: (-0.5, -0.5), 4: (-0.5, -0.5)}}, "quadrant 4"),
])
def test_confusion_bad_input(kwargs, words):
    with pytest.raises(InputError, match=words):
        quadrant_confusion(**{"seeds": 1, "duration": 4, **kwargs})


# -- metric tables ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sets():
    happy = [sk.compose(sk.Emotion(0.7, 0.7), duration=6, seed=s) for s in range(3)]
    sad = [sk.compose(sk.Emotion(-0.7, -0.6), duration=6, seed=s) for s in range(3)]
    return {"happy": happy, "sad": sad}


def test_metric_table_rows(sets):
    rows = metric_table(sets)
    assert len(rows) == 2 * len(METRIC_NAMES)
    assert [(r["name"], r["metric"]) for r in rows[:2]] == [("happy", METRIC_NAMES[0]), ("happy", METRIC_NAMES[1])]
    values = [sk.fuse.quality_metrics(s)["pitch_range"] for s in sets["sad"]]
    row = next(r for r in rows if r["name"] == "sad" and r["metric"] == "pitch_range")
    assert row["mean"] == pytest.approx(sum(values) / 3) and row["n"] == 3
    assert all(math.isnan(r["overlap"]) for r in rows)  # no reference, no comparison


def test_metric_table_against_a_reference(sets):
    rows = metric_table({**sets, "sad again": sets["sad"]}, reference="sad")
    same = {r["metric"]: r for r in rows if r["name"] == "sad again"}
    assert all(same[m]["overlap"] == pytest.approx(1.0) for m in METRIC_NAMES if same[m]["n"])
    assert all(math.isnan(r["overlap"]) for r in rows if r["name"] == "sad")
    happy = {r["metric"]: r for r in rows if r["name"] == "happy"}
    assert happy["pitch_range"]["overlap"] <= 1.0


def test_metric_table_bad_input(sets):
    with pytest.raises(InputError, match="reference"):
        metric_table(sets, reference="EMOPIA")
    with pytest.raises(InputError, match="non-empty"):
        metric_table({})
    with pytest.raises(InputError, match="empty"):
        metric_table({"none": []})
    with pytest.raises(InputError, match="'broken'"):
        metric_table({"broken": [sk.Score([sk.Track("p", 0, [])])]})


def test_metric_table_markdown(sets):
    text = metric_table_markdown(metric_table(sets, reference="sad"))
    lines = text.splitlines()
    assert lines[0] == "| metric | happy | sad |"
    assert len(lines) == 2 + len(METRIC_NAMES)
    assert "overlap" in lines[2]


# -- figures ---------------------------------------------------------------------------------------

def test_confusion_figure(plain):
    fig = nb.confusion_figure(plain)
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert [sum(row) for row in heat.z] == pytest.approx([1, 1, 1, 1])
    assert [list(row) for row in heat.customdata] == [[float(v) for v in row] for row in plain["confusion"]]
    assert "rules" in fig.layout.title.text and "95% CI" in fig.layout.title.text
    # a bare matrix, e.g. the test confusion of scoringkit.fuse.train.evaluate, works too
    fig = nb.confusion_figure({"confusion": [[2, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 3]]})
    assert list(fig.data[0].z[1]) == [0.0, 0.0, 0.0, 0.0]  # an empty row stays empty, no division by zero
    assert "86%" in fig.layout.title.text


@pytest.mark.parametrize("bad", [[[1, 2], [3, 4]], [[1, -1, 0, 0]] * 4, "Q1", {"accuracy": 1.0}])
def test_confusion_figure_bad_input(bad):
    with pytest.raises(InputError, match="4 × 4"):
        nb.confusion_figure(bad)


def test_metrics_figure(sets):
    rows = metric_table(sets)
    fig = nb.metrics_figure(rows)
    assert len(fig.data) == 2 * len(METRIC_NAMES)
    assert sum(t.showlegend for t in fig.data) == 2
    first = fig.data[0]
    assert first.name == "happy" and first.y[0] == pytest.approx(rows[0]["mean"])
    assert first.error_y.array[0] == pytest.approx(rows[0]["std"])
    fig = nb.metrics_figure(rows, metrics=["polyphony"])
    assert len(fig.data) == 2
    with pytest.raises(InputError, match="unknown metric"):
        nb.metrics_figure(rows, metrics=["loudness"])
    with pytest.raises(InputError, match="metric_table"):
        nb.metrics_figure([{"x": 1}])
