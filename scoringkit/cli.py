"""The ``scoringkit`` command line.

::

    scoringkit score STORY.txt -o OUT/ [--force]        story -> soundtrack files
        [--reference TRACK.wav|.mid] [--reference-weight 0.5]   ... scored like a reference track
    scoringkit emotion "some text" [--json]            text -> valence, arousal, categories
        [--transition pivot|crossfade|cut] [--crossfade 1.5]    ... how cues hand over
    scoringkit compose --valence V --arousal A -o OUT.mid [--wav OUT.wav] [--force]
        [--loop]                                        ... a seamless loop for games
    scoringkit features AUDIO_OR_MIDI [--json]          tempo, key, loudness, ... of a file
    scoringkit train transformer [--data DIR] [--steps N] [--out PATH] [--resume PATH] ...
                                                        train the emotion-conditioned Transformer
    scoringkit train vae|gan --out PATH [--steps N] [--max-minutes M] [--resume] [--evaluate [CKPT]]
                                                        train (or evaluate) the piano-roll VAE / GAN

Errors in the input print one line starting with ``error:`` and exit with code 2;
nothing already on disk is touched.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import __version__
from .emotion import DEFAULT_BACKEND
from .errors import ScoringKitError
from .mapping import REFERENCE_WEIGHT

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="scoringkit", description="Score a story with music that follows its emotion.")
    parser.add_argument("--version", action="version", version=f"scoringkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    score = sub.add_parser("score", help="score a story file into OUT/ (WAV, MIDI, MusicXML, cue sheet)")
    score.add_argument("story", help="a UTF-8 text file: paragraphs separated by blank lines, *** for scene breaks")
    score.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    score.add_argument("--force", action="store_true", help="replace existing output files")
    score.add_argument("--backend", default=DEFAULT_BACKEND,
                       help=f"emotion backend: encoder, lexicon or hf:<model> (default: {DEFAULT_BACKEND})")
    score.add_argument("--generator", default="rules", help="music generator (default: rules)")
    score.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    score.add_argument("--wpm", type=float, default=160.0, help="reading speed that sets cue lengths (default: 160)")
    score.add_argument("--encoding", default="utf-8", help="text encoding of the story file (default: utf-8)")
    score.add_argument("--synth", default="auto", help="auto, tinysoundfont or numpy (default: auto)")
    score.add_argument("--sr", type=int, default=44100, help="sample rate of the WAV (default: 44100)")
    score.add_argument("--reference", metavar="TRACK",
                       help="score it like this audio (WAV, FLAC, MP3, ...) or MIDI (.mid) file: its tempo, key, "
                            "brightness, loudness and density are blended into every cue")
    score.add_argument("--reference-weight", type=float, default=REFERENCE_WEIGHT, metavar="W",
                       help="share of the reference, 0 (emotion only) to 1 (reference only) "
                            f"(default: {REFERENCE_WEIGHT:g})")
    score.add_argument("--transition", default="pivot", metavar="NAME",
                       help="how each cue hands over to the next: pivot (modulate through a shared chord and ramp "
                            "the tempo, in the notes), crossfade (overlap the audio with equal-power fades) "
                            "or cut (default: pivot)")
    score.add_argument("--crossfade", type=float, metavar="SECONDS",
                       help="fade length for --transition crossfade (default: 1.5)")
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    emotion = sub.add_parser("emotion", help="print the emotion of a text")
    emotion.add_argument("text", help="the text to analyse (quote it)")
    emotion.add_argument("--backend", default=DEFAULT_BACKEND,
                       help=f"emotion backend: encoder, lexicon or hf:<model> (default: {DEFAULT_BACKEND})")
    emotion.add_argument("--json", action="store_true", help="print JSON instead of a table")

    compose = sub.add_parser("compose", help="compose one cue for a valence/arousal point")
    compose.add_argument("--valence", type=float, required=True, help="-1 (unpleasant) .. 1 (pleasant)")
    compose.add_argument("--arousal", type=float, required=True, help="-1 (calm) .. 1 (excited)")
    compose.add_argument("-o", "--out", required=True, help="output MIDI file")
    compose.add_argument("--wav", help="also render audio to this WAV file")
    compose.add_argument("--duration", type=float, default=20.0, help="seconds (default: 20)")
    compose.add_argument("--generator", default="rules", help="music generator (default: rules)")
    compose.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    compose.add_argument("--force", action="store_true", help="replace existing output files")
    compose.add_argument("--loop", action="store_true",
                         help="write a loopable cue for games: the last bar leads back to the first, and the WAV "
                              "is exactly the bars' length with the release tail wrapped onto the start")
    compose.add_argument("--synth", default="auto", help="auto, tinysoundfont or numpy (default: auto)")
    compose.add_argument("--sr", type=int, default=44100, help="sample rate of the WAV (default: 44100)")

    features = sub.add_parser("features", help="print tempo, key, loudness and more of an audio or MIDI file")
    features.add_argument("file", help="audio (WAV, FLAC, OGG, MP3, AIFF, ...) or MIDI (.mid) file")
    features.add_argument("--json", action="store_true", help="print JSON (with the summary feature vector)")
    features.add_argument("--max-duration", type=float, default=600.0,
                          help="refuse audio longer than this many seconds; 0 = no limit (default: 600)")

    train = sub.add_parser("train", help="train a learned generator on EMOPIA (see `scoringkit train MODEL -h`)")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    from .generate.models.train import build_parser as transformer_options

    transformer_options(models.add_parser(
        "transformer", help="the emotion-conditioned Transformer (scoringkit.generate.models.train)",
        description="Train the emotion-conditioned music Transformer on EMOPIA (also under torchrun)."))
    from .generate.models.rollcli import build_gan_parser, build_vae_parser

    build_vae_parser(models.add_parser(
        "vae", help="the piano-roll VAE (scoringkit.generate.models.vae)",
        description="Train the conditional piano-roll VAE on EMOPIA, or --evaluate a checkpoint."))
    build_gan_parser(models.add_parser(
        "gan", help="the piano-roll GAN (scoringkit.generate.models.gan)",
        description="Train the conditional piano-roll GAN on EMOPIA, or --evaluate a checkpoint."))
    return parser


def _train(args) -> int:
    if args.model == "transformer":
        from .generate.models.train import run

        return run(args, command=" ".join(["scoringkit"] + sys.argv[1:]))
    if args.model in ("vae", "gan"):
        from .generate.models import rollcli

        return (rollcli.run_vae if args.model == "vae" else rollcli.run_gan)(args)
    raise AssertionError(args.model)  # argparse only lets known models through


def cue_line(cue) -> str:
    """The line ``scoringkit score`` prints for a cue: times, quadrant, emotion, tempo, key, text.

    Examples
    --------
    >>> import scoringkit as sk
    >>> print(cue_line(sk.score_story("The sun rose over the happy, laughing crowd.", backend="lexicon").cues[0]))
    cue  1     0.0-   9.0 s  Q1 joy         106 BPM  D major    The sun rose over the happy, laughing c…
    """
    return (f"cue {cue.index + 1:>2}  {cue.start:6.1f}-{cue.end:6.1f} s  Q{cue.emotion.quadrant} "
            f"{cue.emotion.label:<9} {cue.intent.tempo:5.0f} BPM  {cue.intent.key:<9}  {cue.scene.excerpt(40)}")


def _score(args) -> int:
    from .generate.soundtrack import score_story
    from .io import SOUNDTRACK_FILES, check_writable, read_text_file

    text = read_text_file(args.story, encoding=args.encoding)
    out = Path(args.out)
    check_writable([out / name for name in SOUNDTRACK_FILES.values()], overwrite=args.force)
    soundtrack = score_story(text, backend=args.backend, generator=args.generator, seed=args.seed,
                             words_per_minute=args.wpm, progress=not args.quiet,
                             reference=args.reference, reference_weight=args.reference_weight,
                             transition=args.transition, crossfade=args.crossfade)
    paths = soundtrack.write(out, overwrite=args.force, sr=args.sr, synth=args.synth, progress=not args.quiet)
    if not args.quiet:
        for cue in soundtrack.cues:
            print(cue_line(cue))
        if args.reference and soundtrack.cues:
            print(f"reference {args.reference}: {soundtrack.cues[0].intent.reasons.get('reference', '')}")
        for path in paths.values():
            print(f"wrote {path}")
    return 0


def _emotion(args) -> int:
    from .emotion import analyze_text

    emotion = analyze_text(args.text, backend=args.backend)
    if args.json:
        print(json.dumps(emotion.to_dict(), indent=2))
        return 0
    print(f"valence  {emotion.valence:+.2f}\narousal  {emotion.arousal:+.2f}\n"
          f"quadrant {emotion.quadrant} ({emotion.quadrant_name})\nlabel    {emotion.label}")
    for label, p in sorted((emotion.probs or {}).items(), key=lambda kv: -kv[1]):
        print(f"  {label:<9}{p:5.2f} {'#' * round(p * 30)}")
    return 0


def _compose(args) -> int:
    from .generate import compose
    from .io import check_writable, write_wav
    from .types import Emotion

    targets = [Path(args.out)] + ([Path(args.wav)] if args.wav else [])
    check_writable(targets, overwrite=args.force)
    score = compose(Emotion(args.valence, args.arousal), generator=args.generator, duration=args.duration,
                    seed=args.seed, loop=args.loop)
    score.to_midi(args.out, overwrite=args.force)
    print(f"wrote {args.out}  ({score.duration:.1f} s, {score.tempo:g} BPM, {score.key})")
    if args.wav:
        if args.loop:
            from .generate.transitions import loop_beats, render_loop

            audio = render_loop(score, sr=args.sr, synth=args.synth)
            bars = loop_beats(score) / score.beats_per_bar
            note = f"  (loop: {bars:g} bars = {len(audio)} samples at {args.sr} Hz, tail wrapped onto the start)"
        else:
            from .synth import render

            audio, note = render(score, sr=args.sr, synth=args.synth), ""
        write_wav(args.wav, audio, sr=args.sr, overwrite=args.force)
        print(f"wrote {args.wav}{note}")
    return 0


def _features(args) -> int:
    if Path(args.file).suffix.lower() in (".mid", ".midi", ".smf", ".kar"):
        from .extract import symbolic_features

        found = symbolic_features(args.file)
        if args.json:
            print(json.dumps({"file": args.file, "kind": "midi", **found.to_dict(), "summary": found.summary()}, indent=2))
            return 0
        played = "none" if found.tempo_estimate is None else f"{found.tempo_estimate:.1f} BPM played"
        pitch = ("no pitched notes" if found.pitch_mean is None
                 else f"mean {found.pitch_mean:.1f}, range {found.pitch_range} semitones")
        print(f"file          {args.file} ({found.duration:.1f} s, {found.n_notes} notes, {found.n_drum_notes} drum hits)\n"
              f"tempo         {found.tempo:.1f} BPM in the file, {played}\n"
              f"key           {found.key or 'none'} (clarity {found.key_clarity:.2f}; the file says {found.declared_key})\n"
              f"density       {found.note_density:.2f} notes/s, {found.onset_rate:.2f} onsets/s\n"
              f"pitch         {pitch}\n"
              f"velocity      mean {found.velocity_mean:.0f}, spread {found.velocity_std:.1f}\n"
              f"articulation  {'n/a' if found.articulation is None else f'{found.articulation:.2f}'} (1 = legato)\n"
              f"polyphony     {found.polyphony:.2f} (max {found.max_polyphony})")
        return 0
    from .extract import audio_features

    if args.max_duration < 0:
        from .errors import InputError

        raise InputError(f"--max-duration must be a number of seconds >= 0 (0 = no limit), not {args.max_duration:g}")
    found = audio_features(args.file, max_duration=args.max_duration or None, frames=False)
    if args.json:
        print(json.dumps({"file": args.file, "kind": "audio", **found.to_dict(), "summary": found.summary()}, indent=2))
        return 0
    info = found.to_dict()
    tempo = "none (no steady pulse)" if found.tempo is None else (
        f"{found.tempo:.1f} BPM (confidence {found.tempo_confidence:.2f}, {len(found.beats)} beats)")
    loudness = "silent" if found.loudness is None else f"{found.loudness:.1f} LUFS integrated"
    print(f"file          {args.file} ({found.duration:.1f} s, {found.source_sr:g} Hz, {found.n_channels} channel"
          f"{'s' if found.n_channels > 1 else ''})\n"
          f"tempo         {tempo}\n"
          f"key           {found.key or 'none'}" + ("" if found.key is None else f" (clarity {found.key_clarity:.2f})") + "\n"
          f"loudness      {loudness}, RMS {found.rms_dbfs:.1f} dBFS\n"
          f"onsets        {found.onset_density:.2f} per second\n"
          f"brightness    spectral centroid {info['spectral_centroid_hz']:.0f} Hz, "
          f"rolloff {info['spectral_rolloff_hz']:.0f} Hz")
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one ``warning: ...`` line on stderr, like errors (no source path)."""
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or failure to render)."""
    args = build_parser().parse_args(argv)
    handler = {"score": _score, "emotion": _emotion, "compose": _compose, "features": _features,
               "train": _train}[args.command]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            # libraries' notes to developers (audioread's imports on Python 3.11, ...) are not for users
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return handler(args)
    except ScoringKitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
