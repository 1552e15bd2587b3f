import json
import subprocess
import sys

import pytest

import scoringkit as sk
from scoringkit.cli import main

STORY = "The meadow was calm and quiet.\n\nThen the wolves came, howling and snarling in terror!\n"


@pytest.fixture
def story_file(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def test_score_writes_all_files(tmp_path, story_file):
    assert main(["score", str(story_file), "-o", str(tmp_path / "out"), "-q", "--synth", "numpy", "--sr", "8000"]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "soundtrack.wav", "soundtrack.mid", "soundtrack.musicxml", "cues.csv", "cues.json"}


def test_score_refuses_to_overwrite_without_force(tmp_path, story_file, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cues.csv").write_text("my notes")
    assert main(["score", str(story_file), "-o", str(out), "-q"]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (out / "cues.csv").read_text() == "my notes"
    assert sorted(p.name for p in out.iterdir()) == ["cues.csv"]
    assert main(["score", str(story_file), "-o", str(out), "-q", "--force", "--synth", "numpy", "--sr", "8000"]) == 0
    assert (out / "cues.csv").read_text().startswith("cue,")


@pytest.mark.parametrize("make_input,message", [
    (lambda p: p / "missing.txt", "no such file"),
    (lambda p: (p / "empty.txt").write_text("  \n") and p / "empty.txt", "empty"),
    (lambda p: (p / "latin.txt").write_bytes("Ol\xe9! Caf\xe9".encode("latin-1")) and p / "latin.txt", "UTF-8"),
    (lambda p: (p / "big.txt").write_bytes(b"word " * 1_000_000) and p / "big.txt", "MB"),
])
def test_bad_story_files_exit_2_with_one_clear_line(tmp_path, make_input, message, capsys):
    path = make_input(tmp_path)
    assert main(["score", str(path), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_backend_and_generator_exit_2(story_file, tmp_path, capsys):
    assert main(["score", str(story_file), "-o", str(tmp_path / "o"), "-q", "--backend", "nope"]) == 2
    assert "'lexicon'" in capsys.readouterr().err
    assert main(["compose", "--valence", "0", "--arousal", "0", "-o", str(tmp_path / "x.mid"), "--generator", "nope"]) == 2
    assert "'rules'" in capsys.readouterr().err


def test_emotion_command(capsys):
    assert main(["emotion", "We danced and laughed with joy!", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["quadrant"] == 1 and result["label"] == "joy"
    assert main(["emotion", "   "]) == 2


def test_warnings_are_one_line_without_a_source_path(capsys):
    german = "Der Sturm brach über die Bucht herein, und alle Boote lagen still im Hafen, leer und kalt."
    assert main(["emotion", german, "--backend", "lexicon"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: the text does not look like English") and err.count("\n") == 1
    assert "cli.py" not in err


def test_compose_command_writes_midi_and_wav(tmp_path):
    mid, wav = tmp_path / "cue.mid", tmp_path / "cue.wav"
    assert main(["compose", "--valence", "-0.7", "--arousal", "-0.5", "-o", str(mid), "--wav", str(wav), "--duration", "6"]) == 0
    score = sk.Score.from_midi(mid)
    assert score.key == "D minor" and wav.stat().st_size > 1000
    assert main(["compose", "--valence", "0", "--arousal", "0", "-o", str(mid)]) == 2  # exists, no --force
    assert main(["compose", "--valence", "3", "--arousal", "0", "-o", str(tmp_path / "y.mid")]) == 2


def test_console_script_runs_as_a_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scoringkit.cli", "emotion", "a calm still lake"],
                            capture_output=True, text=True, check=True)
    assert "quadrant 4" in result.stdout


def test_import_is_lazy():
    code = ("import sys, scoringkit; heavy = {'numpy', 'music21', 'mido', 'pretty_midi', 'vaderSentiment', 'tqdm'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
