"""From emotion to music in a notebook: the mapping as tables, and a valence/arousal pad.

Everything here *shows* what :func:`scoringkit.emotion_to_intent` and
:func:`scoringkit.compose` decide; the choices themselves live in
:mod:`scoringkit.mapping` and :mod:`scoringkit.generate.rules`. The names are re-exported
by :mod:`scoringkit.nb` (``sk.nb.EmotionPad``, ...).

=================  ==============================================================================
name               shows
=================  ==============================================================================
``mapping_table``  the mapping table: each linear rule (base, weights, range, value per quadrant,
                   reason) and each quadrant's key, mode colour, harmony, dynamics, instruments
``intent_table``   one MusicalIntent (value and reason of every attribute), or several side by
                   side with the differences in bold
``EmotionPad``     a valence/arousal pad: move the point and the music is re-composed, shown as
                   its intent table and piano roll, and played
=================  ==============================================================================

Examples
--------
>>> import scoringkit as sk
>>> import scoringkit.nb
>>> sad, happy = sk.emotion_to_intent(sk.Emotion(-0.7, -0.5)), sk.emotion_to_intent(sk.Emotion(0.7, 0.6))
>>> table = sk.nb.intent_table({"sad": sad, "happy": happy})
>>> "<th>sad</th>" in table.data and "D minor" in table.data
True
"""

from __future__ import annotations

import html
import math
import numbers
from functools import lru_cache

from ..errors import InputError
from ..mapping import ROLES
from ..types import QUADRANT_NAMES, MusicalIntent

__all__ = ["mapping_table", "intent_table", "EmotionPad"]

#: Valence and arousal (with these signs per quadrant) at which :func:`mapping_table`
#: evaluates the linear rules: the middle of each quadrant.
QUADRANT_CENTRE = 0.6
_SIGNS = {1: (1, 1), 2: (-1, 1), 3: (-1, -1), 4: (1, -1)}

_TABLE_STYLE = (
    "<style>.sk-table td, .sk-table th {padding: 2px 8px; vertical-align: top; text-align: left}"
    " .sk-table .num {text-align: right; font-variant-numeric: tabular-nums}"
    " .sk-table .why {color: #666; font-size: 0.88em; max-width: 34em}"
    " .sk-table caption {caption-side: top; text-align: left; font-weight: bold; padding: 4px 0}</style>"
)


def _esc(value) -> str:
    return html.escape(str(value))


def _program(program: int) -> str:
    from .pianoroll import program_name

    return f"{program_name(program)} ({program})"


# -- the mapping table -------------------------------------------------------------------------------
def mapping_table(table=None, *, at: float = QUADRANT_CENTRE):
    """Show the emotion → music mapping table as HTML: linear rules, then quadrant choices.

    **Linear rules** (:data:`scoringkit.mapping.LINEAR_RULES`): each attribute is
    ``clip(base + valence weight × v + arousal weight × a, low, high)``. The table lists the
    coefficients, the range, the reason, and the value the rule gives in the middle of each
    quadrant (``v, a = ±at``), so you can read the rule's effect directly.

    **Quadrant choices** (:data:`scoringkit.mapping.QUADRANT_CHOICES`): key, modal colour,
    harmony family, dynamics curve and the General MIDI instrument of each role.

    Parameters
    ----------
    table : dict, optional
        A table shaped like :func:`scoringkit.mapping.default_table` (e.g. your edited
        copy); default the built-in one. It is checked with
        :func:`scoringkit.mapping.validate_table`.
    at : float
        Distance from the centre, in (0, 1], of the four points the rules are evaluated at.

    Returns
    -------
    IPython.display.HTML

    Raises
    ------
    InputError
        For a table that :func:`~scoringkit.mapping.validate_table` rejects, or ``at``
        outside (0, 1].

    Examples
    --------
    >>> import scoringkit.nb
    >>> html_text = scoringkit.nb.mapping_table().data
    >>> "tempo" in html_text and "D major" in html_text and "Flute (73)" in html_text
    True
    """
    from IPython.display import HTML

    from ..mapping import LINEAR_RULES, QUADRANT_CHOICES, validate_table

    if table is None:
        table = {"linear": LINEAR_RULES, "quadrants": QUADRANT_CHOICES}
    else:
        validate_table(table)
    if isinstance(at, bool) or not isinstance(at, numbers.Real) or not 0 < at <= 1:
        raise InputError(f"at must be a number in (0, 1], got {at!r}")
    heads = ["attribute", "base", "× valence", "× arousal", "range"]
    heads += [f"Q{q} ({'+' if sv > 0 else '−'}{at:g}, {'+' if sa > 0 else '−'}{at:g})"
              for q, (sv, sa) in _SIGNS.items()] + ["reason"]
    rows = []
    for name, (base, wv, wa, low, high, reason) in table["linear"].items():
        values = [min(high, max(low, base + wv * sv * at + wa * sa * at)) for sv, sa in _SIGNS.values()]
        cells = [f"<td><b>{_esc(name)}</b></td>"]
        cells += [f'<td class="num">{x:g}</td>' for x in (base, wv, wa)]
        cells += [f'<td class="num">{low:g} … {high:g}</td>']
        cells += [f'<td class="num">{_fmt_number(x)}</td>' for x in values]
        cells += [f'<td class="why">{_esc(reason)}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    linear = (f'<table class="sk-table"><caption>Linear rules: value = clip(base + weight × valence + weight × '
              f"arousal, low, high)</caption><thead><tr>{''.join(f'<th>{_esc(h)}</th>' for h in heads)}</tr></thead>"
              f"<tbody>{''.join(rows)}</tbody></table>")
    heads = ["quadrant", "key", "scale", "harmony", "dynamics", *ROLES, "reason"]
    rows = []
    for q in (1, 2, 3, 4):
        choice = table["quadrants"][q]
        cells = [f"<td><b>{q}</b> {_esc(QUADRANT_NAMES[q])}</td>", f"<td>{_esc(choice['key'])}</td>",
                 f"<td>{_esc(choice.get('scale') or '(plain)')}</td>", f"<td>{_esc(choice['harmony'])}</td>",
                 f"<td>{_esc(choice.get('dynamics', 'steady'))}</td>"]
        cells += [f"<td>{_esc(_program(choice['instruments'][r])) if r in choice['instruments'] else '—'}</td>"
                  for r in ROLES]
        cells.append(f'<td class="why">{_esc(choice.get("reason", ""))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    quadrants = (f'<table class="sk-table"><caption>Quadrant choices (EMOPIA numbering)</caption><thead><tr>'
                 f"{''.join(f'<th>{_esc(h)}</th>' for h in heads)}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return HTML(_TABLE_STYLE + linear + "<br>" + quadrants)


def _fmt_number(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 10 else f"{x:.2f}"


# -- intent tables ---------------------------------------------------------------------------------
def _intent_rows(intent: MusicalIntent) -> list:
    """``[(attribute, value text, reason key), ...]`` in the order of :meth:`MusicalIntent.explain`."""
    from .pianoroll import pitch_name

    rows = [
        ("tempo", f"{intent.tempo:g} BPM", "tempo"),
        ("key", intent.key, "key"),
        ("scale", intent.scale_name, "scale"),
        ("register", f"{pitch_name(intent.register)} (MIDI {intent.register})", "register"),
        ("velocity", str(intent.velocity), "velocity"),
        ("density", f"{intent.density:.2f} notes/beat", "density"),
        ("articulation", f"{intent.articulation:.2f}", "articulation"),
        ("harmony", intent.harmony, "harmony"),
        ("harmonic rhythm", f"{intent.harmonic_rhythm:g} chord/bar", "harmonic_rhythm"),
        ("tension", f"{intent.tension:.2f}", "tension"),
        ("syncopation", f"{intent.syncopation:.2f}", "syncopation"),
        ("percussion", f"{intent.percussion:.2f}" + (" (no drums)" if intent.percussion < 0.2 else ""), "percussion"),
        ("dynamics", intent.dynamics, "dynamics"),
        ("meter", f"{intent.meter[0]}/{intent.meter[1]}", "meter"),
    ]
    rows += [(role, _program(program), "instruments") for role, program in intent.instruments.items()]
    return rows


def intent_table(intents, *, reasons=None):
    """Show one or more :class:`~scoringkit.types.MusicalIntent` as an HTML table.

    One intent: a row per attribute (tempo, key, scale, register, velocity, density,
    articulation, harmony, harmonic rhythm, tension, syncopation, percussion, dynamics,
    meter, and the instrument of each role) with its value and the reason the mapping
    gave, the same facts as :meth:`MusicalIntent.explain`, with pitch and instrument
    names. Several intents (a dict of name → intent, or a list): one column each, and a
    value that differs from the first column's is shown in **bold**, so a comparison (five
    styles, four quadrants, before and after an edit) shows what changed at a glance.

    Parameters
    ----------
    intents : MusicalIntent, list of MusicalIntent, or dict of str to MusicalIntent
        From :func:`scoringkit.emotion_to_intent`.
    reasons : bool, optional
        Show the reasons column; default True for one intent, False for several (then the
        reasons of the *last* column are shown if True).

    Returns
    -------
    IPython.display.HTML

    Raises
    ------
    InputError
        For anything but MusicalIntents, or an empty list or dict.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> calm = sk.emotion_to_intent(sk.Emotion(0.5, -0.6))
    >>> "Clarinet (71)" in sk.nb.intent_table(calm).data
    True
    """
    from IPython.display import HTML

    if isinstance(intents, MusicalIntent):
        named = {"value": intents}
    elif isinstance(intents, dict):
        named = {str(k): v for k, v in intents.items()}
    elif isinstance(intents, (list, tuple)):
        named = {str(i + 1): v for i, v in enumerate(intents)}
    else:
        raise InputError(f"intent_table takes a MusicalIntent, a list or a dict of them (from "
                         f"scoringkit.emotion_to_intent), not {type(intents).__name__}")
    if not named:
        raise InputError("intent_table: no intents to show; pass at least one MusicalIntent")
    for name, intent in named.items():
        if not isinstance(intent, MusicalIntent):
            raise InputError(f"intent_table: {name!r} is a {type(intent).__name__}, not a MusicalIntent")
    if reasons is None:
        reasons = len(named) == 1
    columns = {name: _intent_rows(intent) for name, intent in named.items()}
    last = list(named.values())[-1]
    attributes = list(dict.fromkeys(a for rows in columns.values() for a, _, _ in rows))
    lookup = {name: {a: (value, key) for a, value, key in rows} for name, rows in columns.items()}
    first = lookup[next(iter(named))]
    body = []
    for attribute in attributes:
        cells = [f"<td><b>{_esc(attribute)}</b></td>"]
        for k, name in enumerate(named):
            value = lookup[name].get(attribute, ("—", ""))[0]
            differs = k > 0 and value != first.get(attribute, ("—", ""))[0]
            cells.append(f"<td>{'<b>' if differs else ''}{_esc(value)}{'</b>' if differs else ''}</td>")
        if reasons:
            key = lookup[list(named)[-1]].get(attribute, ("", ""))[1]
            cells.append(f'<td class="why">{_esc(last.reasons.get(key, ""))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    heads = ["attribute", *named] + (["reason"] if reasons else [])
    caption = ""
    if len(named) == 1 and last.emotion is not None:
        e = last.emotion
        caption = (f"<caption>Intent for valence {e.valence:+.2f}, arousal {e.arousal:+.2f} "
                   f"(quadrant {e.quadrant}, {_esc(e.quadrant_name)})</caption>")
    return HTML(_TABLE_STYLE + f'<table class="sk-table">{caption}<thead><tr>'
                + "".join(f"<th>{_esc(h)}</th>" for h in heads) + "</tr></thead><tbody>"
                + "".join(body) + "</tbody></table>")


# -- the pad -------------------------------------------------------------------------------------------
_PAD_ESM = r"""
function render({ model, el }) {
  const size = model.get("size");
  const margin = 16;
  const span = size - 2 * margin;
  const canvas = document.createElement("canvas");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(size * ratio);
  canvas.height = Math.round(size * ratio);
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  canvas.style.cursor = "crosshair";
  canvas.style.touchAction = "none";
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-label", "valence/arousal pad: click or drag the point; arrow keys move it");
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  let dragging = null;  // [valence, arousal] while the pointer is down
  let lastSent = 0;
  const clamp = (x) => Math.max(-1, Math.min(1, x));
  const round = (x) => Math.round(x * 100) / 100;
  const toX = (v) => margin + (v + 1) / 2 * span;
  const toY = (a) => margin + (1 - a) / 2 * span;
  function fromEvent(event) {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width * size;
    const y = (event.clientY - box.top) / box.height * size;
    return [round(clamp((x - margin) / span * 2 - 1)), round(clamp(1 - (y - margin) / span * 2))];
  }
  function dot(v, a, alpha) {
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    ctx.arc(toX(v), toY(a), 7, 0, 2 * Math.PI);
    ctx.fillStyle = "#222";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  function draw() {
    const colours = model.get("colours");
    const names = model.get("names");
    const mid = margin + span / 2;
    ctx.clearRect(0, 0, size, size);
    const corners = { "1": [mid, margin], "2": [margin, margin], "3": [margin, mid], "4": [mid, mid] };
    ctx.font = "11px sans-serif";
    for (const [q, [x, y]] of Object.entries(corners)) {
      ctx.globalAlpha = 0.22;
      ctx.fillStyle = colours[q] || "#ccc";
      ctx.fillRect(x, y, span / 2, span / 2);
      ctx.globalAlpha = 1;
      ctx.fillStyle = "#444";
      const right = q === "1" || q === "4";
      const top = q === "1" || q === "2";
      ctx.textAlign = right ? "right" : "left";
      ctx.textBaseline = top ? "top" : "bottom";
      const labelX = right ? size - margin - 4 : margin + 4;
      ctx.fillText(`${q} · ${names[q] || ""}`, labelX, top ? margin + 4 : size - margin - 4);
    }
    ctx.strokeStyle = "#888";
    ctx.lineWidth = 1;
    ctx.strokeRect(margin, margin, span, span);
    ctx.beginPath();
    ctx.moveTo(margin, mid); ctx.lineTo(size - margin, mid);
    ctx.moveTo(mid, margin); ctx.lineTo(mid, size - margin);
    ctx.stroke();
    ctx.fillStyle = "#444";
    ctx.textAlign = "right"; ctx.textBaseline = "bottom";
    ctx.fillText("valence →", size - margin - 2, mid - 2);
    ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText("↑ arousal", mid + 4, margin + 18);
    const v = model.get("valence");
    const a = model.get("arousal");
    dot(v, a, dragging ? 0.3 : 1);
    if (dragging) dot(dragging[0], dragging[1], 1);
    ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.fillStyle = "#222";
    const shown = dragging || [v, a];
    const signed = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
    ctx.fillText(`valence ${signed(shown[0])}  arousal ${signed(shown[1])}`, size / 2, margin - 2);
  }
  function send(point, force) {
    const now = Date.now();
    if (!force && now - lastSent < 150) return;
    lastSent = now;
    model.set("valence", point[0]);
    model.set("arousal", point[1]);
    model.save_changes();
  }
  canvas.addEventListener("pointerdown", (event) => {
    dragging = fromEvent(event);
    canvas.setPointerCapture(event.pointerId);
    draw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    dragging = fromEvent(event);
    draw();
    send(dragging, false);
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!dragging) return;
    const point = fromEvent(event);
    dragging = null;
    send(point, true);
    draw();
  });
  canvas.addEventListener("pointercancel", () => { dragging = null; draw(); });
  canvas.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? 0.2 : 0.05;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    send([round(clamp(model.get("valence") + move[0])), round(clamp(model.get("arousal") + move[1]))], true);
  });
  const redraw = () => draw();
  model.on("change:valence", redraw);
  model.on("change:arousal", redraw);
  el.appendChild(canvas);
  draw();
  return () => { model.off("change:valence", redraw); model.off("change:arousal", redraw); };
}
export default { render };
"""


@lru_cache(maxsize=1)
def _pad_canvas_class():
    """The anywidget class of the clickable pad, or ``None`` where anywidget is missing."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        return None

    class PadCanvas(anywidget.AnyWidget):
        """A square valence/arousal pad drawn on a canvas; click, drag or use the arrow keys."""

        _esm = _PAD_ESM
        valence = traitlets.Float(0.0).tag(sync=True)
        arousal = traitlets.Float(0.0).tag(sync=True)
        size = traitlets.Int(260).tag(sync=True)
        colours = traitlets.Dict().tag(sync=True)
        names = traitlets.Dict().tag(sync=True)

    return PadCanvas


def _check_duration(duration) -> float:
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration) \
            or not 1 <= duration <= 120:
        raise InputError(f"duration must be a number of seconds from 1 to 120, got {duration!r}")
    return float(duration)


class EmotionPad:
    """A valence/arousal pad that re-composes and plays the music as you move the point.

    The view is built from pure functions: for the point ``(valence, arousal)``, the
    style and the seed, :meth:`update` runs

    ``intent = emotion_to_intent(Emotion(valence, arousal), style=..., table=...)``,
    ``score = compose(intent, duration=..., seed=...)``, ``audio = render(score, sr=...)``

    and shows the intent as a table (:func:`intent_table`: every choice with its reason),
    the score as a piano roll (:func:`~scoringkit.nb.pianoroll.piano_roll`), a player of
    the audio, and what the music-emotion model hears in the score
    (:func:`scoringkit.music_emotion`), so you can check that the music says what you
    asked for.

    Move the point by clicking or dragging on the pad (a small canvas widget, drawn with
    ``anywidget``; arrow keys move it too, Shift for bigger steps) or with the two
    sliders; change the style or the seed. After each change the widget waits until
    nothing has changed for ``debounce`` seconds, then composes once; with *play after each
    change* ticked, the new music starts playing. Problems appear as a message in the
    widget, never as a traceback, and the last good result stays.

    Display it by ending a cell with ``pad.widget`` (a ``VBox``), or with ``pad`` itself.

    Parameters
    ----------
    valence, arousal : float
        The starting point, each in [-1, 1].
    style : str, optional
        A preset of :data:`scoringkit.mapping.STYLES` (``"film"``, ``"game"``,
        ``"jingle"``, ``"lullaby"``, ``"horror"``); ``None`` means ``"film"``, the table as
        it is.
    seed : int
        The composer's seed (>= 0).
    duration : float
        Seconds of music per composition, 1-120 (short keeps the pad responsive).
    sr : int
        Sample rate of the player, 8,000-48,000 Hz.
    debounce : float
        Seconds without a change before composing (>= 0). The wait runs on a
        :class:`threading.Timer`, so the kernel stays free; ``0`` composes on every change,
        in the kernel's thread.
    table : dict, optional
        An edited mapping table (see :func:`scoringkit.mapping.default_table`) to use
        instead of the built-in one; you can also set :attr:`table` later and call
        :meth:`update`.
    estimate : bool
        Also ask :func:`scoringkit.music_emotion` what the composed score expresses.
    show : bool
        Compose the starting point at once (default).

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display.
    pad : anywidget or None
        The canvas pad (traits ``valence``, ``arousal``), linked to the sliders; ``None``
        where ``anywidget`` is not installed (then use the sliders).
    valence, arousal : ipywidgets.FloatSlider
    style : ipywidgets.Dropdown
    seed : ipywidgets.BoundedIntText
    autoplay : ipywidgets.Checkbox
        *Play after each change*: start the player whenever a move re-composes.
    status : ipywidgets.HTML
        Point, quadrant and result, or the error message.
    table_view : ipywidgets.HTML
        The intent table.
    player : ipywidgets.Audio
        ``value`` holds the WAV bytes of the latest render (16-bit PCM, not normalised).
    view : ipywidgets.Output
        Where the piano roll is drawn.
    emotion, intent, score, audio, figure, heard
        The latest successful result: the Emotion asked for, its MusicalIntent, the
        Score, the samples (float32 at :attr:`sr`), the piano-roll figure and the
        music-emotion estimate (``None`` when ``estimate=False`` or it failed).
    error : str or None
        The latest failure's message; ``None`` after a success.

    Raises
    ------
    InputError
        At construction, for a point outside [-1, 1], an unknown style, a bad seed,
        duration, sample rate, debounce or table.

    Examples
    --------
    >>> import scoringkit.nb
    >>> pad = scoringkit.nb.EmotionPad(0.6, 0.6, duration=4, debounce=0)
    >>> pad.intent.key, pad.error is None, bytes(pad.player.value[:4])
    ('D major', True, b'RIFF')
    >>> _ = pad.set_point(-0.7, -0.6)
    >>> pad.intent.key, "D minor" in pad.table_view.value
    ('D minor', True)
    >>> pad.set_point(2, 0) is None, pad.error
    (True, 'valence must lie in [-1, 1], got 2')
    >>> pad.close()
    """

    def __init__(self, valence: float = 0.5, arousal: float = 0.5, *, style=None, seed: int = 0,
                 duration: float = 8.0, sr: int = 22050, debounce: float = 0.4, table=None,
                 estimate: bool = True, show: bool = True):
        import threading

        import ipywidgets as widgets

        from ..mapping import STYLES, validate_table
        from ..types import Emotion

        Emotion(valence, arousal)  # raises InputError for a point outside the plane
        if style is None:
            style = "film"
        if style not in STYLES:
            from ..errors import choice_error

            raise choice_error("style", style, STYLES)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise InputError(f"seed must be an integer >= 0, got {seed!r}")
        self.duration = _check_duration(duration)
        if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or not 8000 <= sr <= 48000:
            raise InputError(f"sr must be an integer sample rate from 8000 to 48000 Hz, got {sr!r}")
        from ._debounce import check_debounce

        wait = check_debounce(debounce)
        if table is not None:
            validate_table(table)
        self.sr, self.debounce, self.table, self.estimate = int(sr), wait, table, bool(estimate)
        self.emotion = self.intent = self.score = self.audio = self.figure = self.heard = None
        self.error = None
        self._lock = threading.RLock()
        self._timer = None
        self._quiet = False

        slider = {"min": -1.0, "max": 1.0, "step": 0.01, "readout_format": "+.2f", "continuous_update": True,
                  "layout": widgets.Layout(width="330px")}
        self.valence = widgets.FloatSlider(value=float(valence), description="valence", **slider)
        self.arousal = widgets.FloatSlider(value=float(arousal), description="arousal", **slider)
        self.style = widgets.Dropdown(options=list(STYLES), value=style, description="style",
                                      layout=widgets.Layout(width="330px"))
        self.seed = widgets.BoundedIntText(value=int(seed), min=0, max=2**31 - 1, description="seed",
                                           layout=widgets.Layout(width="200px"))
        self.autoplay = widgets.Checkbox(value=True, description="play after each change", indent=False)
        self.status = widgets.HTML(value="")
        self.table_view = widgets.HTML(value="")
        self.player = widgets.Audio(value=b"", format="wav", autoplay=False, loop=False)
        self.view = widgets.Output()
        self.pad = self._make_pad()
        controls = widgets.VBox([
            self.valence, self.arousal, self.style, self.seed, self.autoplay,
            widgets.HTML("<b>the music</b>"), self.player,
        ], layout=widgets.Layout(margin="0 0 0 16px"))
        top = [self.pad, controls] if self.pad is not None else [controls]
        wait_text = "at once" if wait == 0 else f"{wait:g} s after you stop"
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>Emotion pad</b> · click or drag the point (or use the sliders); the music is "
                         f"re-composed {wait_text}: {self.duration:g} s at {self.sr} Hz"),
            widgets.HBox(top),
            self.status,
            self.table_view,
            self.view,
        ])
        for control in (self.valence, self.arousal, self.style, self.seed):
            control.observe(self._on_change, names="value")
        if show:
            self.update()
        else:
            self._show_status("<span style='color:#666'>Move the point to compose.</span>")

    # -- public ----------------------------------------------------------------------------------
    def set_point(self, valence: float, arousal: float, *, update: bool = True):
        """Move the point to ``(valence, arousal)`` and (by default) compose for it now.

        The sliders and the pad move without starting the debounce timer. Never raises:
        a point outside [-1, 1] is shown as a message and kept in :attr:`error`.

        Returns
        -------
        Score or None
            The new score (``None`` if it failed, or with ``update=False``).
        """
        from ..types import Emotion

        try:
            Emotion(valence, arousal)
        except InputError as err:
            return self._fail(str(err))
        with self._lock:
            self._quiet = True
            try:
                self.valence.value, self.arousal.value = float(valence), float(arousal)
            finally:
                self._quiet = False
        return self.update() if update else None

    def update(self, *, play: bool = False):
        """Compose, render and show the music for the controls' current values, now.

        This is what the debounce timer calls (with ``play=True``, so the player starts
        when *play after each change* is ticked); call it yourself after changing
        :attr:`table`. It never raises: a failure is shown in the widget and kept in
        :attr:`error`.

        Returns
        -------
        Score or None
            The new score, or ``None`` if something failed.
        """
        from ..errors import ScoringKitError
        from ..generate import compose
        from ..mapping import emotion_to_intent
        from ..synth import render
        from ..types import Emotion

        with self._lock:
            self._show_status("<span style='color:#666'>composing …</span>")
            try:
                emotion = Emotion(self.valence.value, self.arousal.value)
                intent = emotion_to_intent(emotion, style=self.style.value, table=self.table)
                score = compose(intent, duration=self.duration, seed=int(self.seed.value))
                audio = render(score, sr=self.sr)
            except ScoringKitError as err:
                return self._fail(str(err))
            except Exception as err:  # noqa: BLE001 - a widget callback must never raise into the kernel
                return self._fail(f"unexpected {type(err).__name__}: {err}")
            heard = self._estimate(score)
            try:
                self._draw(emotion, intent, score, audio, heard, play=play)
            except Exception as err:  # noqa: BLE001
                return self._fail(f"could not show the result ({type(err).__name__}: {err})")
            return score

    def close(self) -> None:
        """Stop a pending timer, stop observing and close the widgets."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        for control in (self.valence, self.arousal, self.style, self.seed):
            try:
                control.unobserve(self._on_change, names="value")
            except ValueError:
                pass
        for link in getattr(self, "_links", ()):
            link.unlink()
        children = [self.valence, self.arousal, self.style, self.seed, self.autoplay, self.status,
                    self.table_view, self.player, self.view, self.widget]
        for child in children + ([self.pad] if self.pad is not None else []):
            child.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else f"score={self.score!r}"
        return (f"EmotionPad(valence={self.valence.value:+.2f}, arousal={self.arousal.value:+.2f}, "
                f"style={self.style.value!r}, seed={self.seed.value}, {state})")

    # -- internals -------------------------------------------------------------------------------
    def _make_pad(self):
        import ipywidgets as widgets

        from . import QUADRANT_COLOURS

        canvas_class = _pad_canvas_class()
        if canvas_class is None:
            self._links = ()
            return None
        pad = canvas_class(valence=self.valence.value, arousal=self.arousal.value,
                           colours={str(q): c for q, c in QUADRANT_COLOURS.items()},
                           names={str(q): n for q, n in QUADRANT_NAMES.items()})
        # kernel-side links, so the pad follows set_point and the sliders follow the pad
        self._links = (widgets.link((pad, "valence"), (self.valence, "value")),
                       widgets.link((pad, "arousal"), (self.arousal, "value")))
        return pad

    def _on_change(self, change) -> None:
        """``observe`` callback of the controls: (re)start the debounce timer, or compose at once."""
        if self._quiet:
            return
        if self.debounce == 0:
            self.update(play=True)
            return
        from ._debounce import restart_timer

        restart_timer(self, self._fire)

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        self.update(play=True)

    def _estimate(self, score):
        if not self.estimate:
            return None
        from ..fuse import music_emotion

        try:
            return music_emotion(score)
        except Exception:  # noqa: BLE001 - the status line says it could not be estimated
            return None

    def _draw(self, emotion, intent, score, audio, heard, *, play: bool) -> None:
        from . import _show_in_output, audio_player
        from .pianoroll import piano_roll

        figure = piano_roll(score, title=f"Piano roll: {score.n_notes} notes, {score.duration:.1f} s, "
                                         f"{intent.tempo:g} BPM, {intent.key} ({intent.scale_name})",
                            height=440)
        wav = audio_player(audio, sr=self.sr).data
        self.table_view.value = intent_table(intent).data
        self.player.autoplay = bool(play and self.autoplay.value)
        self.player.value = wav
        _show_in_output(self.view, figure)
        self.emotion, self.intent, self.score, self.audio = emotion, intent, score, audio
        self.figure, self.heard, self.error = figure, heard, None
        line = (f"<b>valence</b> {emotion.valence:+.2f} · <b>arousal</b> {emotion.arousal:+.2f} · "
                f"quadrant {emotion.quadrant} <i>({_esc(emotion.quadrant_name)})</i> · style "
                f"<code>{_esc(self.style.value)}</code> · seed {self.seed.value} → {intent.tempo:g} BPM, "
                f"{_esc(intent.key)}, {score.n_notes} notes")
        if self.estimate:
            if heard is None:
                line += "<br><span style='color:#666'>the music-emotion model could not rate this score</span>"
            else:
                verdict = ("<span style='color:#2a7d2a'>✓ the quadrant asked for</span>"
                           if heard.quadrant == emotion.quadrant else
                           f"<span style='color:#b00020'>✗ not quadrant {emotion.quadrant}</span>")
                line += (f"<br>the music-emotion model hears quadrant {heard.quadrant} "
                         f"<i>({_esc(heard.quadrant_name)})</i>: valence {heard.valence:+.2f}, "
                         f"arousal {heard.arousal:+.2f} · {verdict}")
        self._show_status(line)

    def _fail(self, message: str):
        self.error = message
        still = " (the music below is still the last good result)" if self.score is not None else ""
        self._show_status(f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>{still}")
        return None

    def _show_status(self, markup: str) -> None:
        self.status.value = markup
