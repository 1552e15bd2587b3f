"""An emotion-conditioned decoder-only Transformer over REMI tokens, with KV-cache sampling.

The model reads the token sequence of :class:`~.tokenizer.RemiTokenizer` left to right and
predicts the next token. The condition is simply the header every sequence starts with::

    BOS Q3 TimeSig_4/4 Key_D_minor Tempo_120.0 Bar Position_0 Program_0 Pitch_50 ...

so "compose something sad in D minor" means *prompt with that header and sample*
(as in EMOPIA's own Transformer baselines, Hung et al. 2021, and CTRL-style control codes).

Architecture (GPT-2 style, plain PyTorch)
-----------------------------------------
* token embedding (tied with the output layer) + learned positional embedding,
  ``context`` positions;
* ``n_layers`` pre-LayerNorm blocks: ``x + Attn(LN(x))``, ``x + MLP(LN(x))`` with a
  GELU MLP of width ``d_ff``;
* causal self-attention through :func:`torch.nn.functional.scaled_dot_product_attention`
  (``is_causal=True`` on a fresh sequence; an explicit mask when a chunk follows cached
  keys), so PyTorch picks its fused kernels where the hardware has them;
* a final LayerNorm and the tied output projection to ``vocab_size`` logits.

Sampling
--------
:func:`sample_tokens` extends a prompt one token at a time. With ``use_cache=True`` the
keys and values of every layer are kept in a preallocated buffer, so each new token costs
one position instead of the whole prefix (the same tokens come out as with
``use_cache=False``, which recomputes everything: tested). :func:`sample_batch` decodes
several seeds in one batch, each row with its own window, generator, grammar and stop (a
row gives what :func:`sample_tokens` gives for its seed); on a CPU a step of 8 rows costs
about as much as 2-3 single steps, which is what makes ``candidates=N`` cheap. Each step's logits are divided
by ``temperature``, cut to the ``top_k`` most likely tokens and to the smallest set whose
probability reaches ``top_p`` (nucleus sampling, Holtzman et al. 2020), optionally
restricted by a grammar (:class:`RemiGrammar`, which only allows what the tokenizer could
have written next), and drawn with a seeded NumPy generator: same seed, same music.
``guidance > 1`` applies classifier-free guidance (Ho & Salimans 2022): the model also reads
the prompt with the unconditional token ``Qnone`` and the two next-token distributions are
extrapolated, ``l = l_none + guidance · (l_cond − l_none)``; the shipped model was trained
with 10 % of windows relabelled ``Qnone`` so that it knows both.

A sequence longer than the context is generated in windows: when the context is full, the
sampler restarts from the header (condition, meter, key, tempo) followed by the last bars of
what it wrote (about half a context, starting at a ``Bar``), exactly the windows it was
trained on, and goes on.

:meth:`TransformerGenerator.beam_search` steers toward the intended quadrant while decoding:
a stochastic bi-objective beam search (after Bardo Composer, Ferreira et al. 2020) that
weighs the model's likelihood against the music-emotion model's agreement.

From an intent to a Score (:func:`generate`)
--------------------------------------------
* **Condition**: the quadrant of ``intent.emotion`` (or, for an intent without an emotion,
  major/minor × tempo ≥ 100 BPM: major fast Q1, minor fast Q2, minor slow Q3, major slow Q4).
* **Key**: the intent's key is the header's ``Key`` token. EMOPIA's MIDI files carry no key
  signature, so the training data's key tokens were set from a Krumhansl-Schmuckler estimate of
  each clip (:func:`scoringkit.generate.models.train.label_keys`) and move with the
  transposition augmentation. The shipped model, trained for minutes, has *not* learned to
  follow that token (its cues land in random keys), so by default the sampler also keeps the
  notes in the intent's scale (``scale_penalty=-inf``, :func:`scale_bias`: a logit mask on
  out-of-scale pitches; minor keys keep the leading tone). ``scale_penalty=0`` leaves the
  notes to the model.
* **Loudness and octave** (``steer=True``, :func:`steer_to_intent`): velocities are scaled so
  that their mean is ``intent.velocity`` and the texture moves by at most one octave toward
  ``intent.register``; the model's own dynamics and voicing keep their shape.
* **Tempo and length**: EMOPIA is performance MIDI on a nominal 120 BPM grid (its ``Tempo``
  token is always 120), so a tempo token the model never saw would be noise to it. The
  header gets the training tempo nearest to the intent's (stored in the checkpoint:
  120 BPM for the shipped model) and the decoded score is then *played at the intent's
  tempo*: its beats are the model's grid, its tempo map the intent's. So a slow intent
  stretches the performance and a fast one tightens it, in the direction of the intent's
  arousal. The sampler writes ``bars_for_duration(duration, intent.tempo)`` bars (the same
  rounding as the rule composer), ``EOS`` is not allowed before that, and notes are cut at
  the last barline, so the cue lasts ``duration`` seconds within one bar.
* **Meter**: the intent's meter if the model saw that ``TimeSig`` in training, else 4/4
  (EMOPIA is all 4/4).
* **Drafts** (``draws``, default :data:`DRAWS` = 8): the sampler writes 8 drafts in one batch
  and the cue is the one whose key estimate sounds most major for a major intent, most minor
  for a minor one (:func:`pick_by_mode`; the rule the VAE and the GAN use for their latent
  walks). The music-emotion model is not consulted; that is reranking (``candidates=N``) or
  the beam search. On the fuse benchmark's 80 cues this took the share heard in the intended
  quadrant from 53.8 % (one draft) to 71.2 % (model card). ``draws=1`` is plain sampling.
* **Instruments** (``orchestration``): EMOPIA is solo piano, and the model writes piano
  textures. ``"melody"`` (default) moves the top voice (the highest note of each onset from
  middle C up, made monophonic) to ``intent.instruments["melody"]`` and leaves the rest on
  the piano, so the intent's lead colour is heard while the accompaniment stays what the
  model learned; ``"piano"`` keeps everything on the piano (program 0). When the melody
  program is a piano (0-7) the score stays one piano track either way.

Examples
--------
>>> import torch
>>> from scoringkit.generate.models.tokenizer import RemiTokenizer
>>> tok = RemiTokenizer()
>>> cfg = TransformerConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=2, n_heads=2, d_ff=64, context=64)
>>> model = MusicTransformer(cfg)
>>> model(torch.zeros(2, 10, dtype=torch.long)).shape
torch.Size([2, 10, 581])
>>> prompt = header_ids(tok, quadrant=3, key="D minor")
>>> ids = sample_tokens(model, prompt, max_new_tokens=20, seed=0, grammar=RemiGrammar(tok))
>>> len(ids) == len(prompt) + 20 and tok.token_names(ids[:6])[5] == "Bar"
True
"""

from __future__ import annotations

import math
import numbers
import threading
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import InputError, ModelError
from ...types import MusicalIntent, Note, Score, Track
from .pianoroll import check_draws, choose_by_mode, intent_quadrant  # one rule for every learned generator
from .tokenizer import METERS, RemiTokenizer

__all__ = ["TransformerConfig", "MusicTransformer", "KVCache", "RemiGrammar", "filter_logits", "sample_tokens",
           "sample_batch", "header_ids", "intent_quadrant", "TransformerGenerator", "load_generator", "generate",
           "generate_batch", "beam_search", "default_checkpoint", "DEFAULT_CHECKPOINT", "SAMPLING", "ORCHESTRATIONS",
           "steer_to_intent", "scale_bias", "pick_by_mode", "DRAWS"]

#: File name of the shipped checkpoint inside ``scoringkit/assets/models``.
DEFAULT_CHECKPOINT = "transformer_emopia.safetensors"
#: Default sampling settings of :func:`generate`. ``scale_penalty=-inf`` keeps the notes in the intent's scale
#: (:func:`scale_bias`) so that a cue is in the key its intent (and the cue sheet, and the pivot-chord
#: transitions) say. It is not there for the quadrant accuracy: on the benchmark's 32 cues the shipped model
#: placed 56 % in their quadrant with or without it (and without ``steer``); guidance 2-3 and temperature
#: 0.8 did no better on 16 tuning cues (see the model card).
SAMPLING = {"temperature": 1.0, "top_k": 0, "top_p": 0.95, "guidance": 1.0, "scale_penalty": float("-inf")}
#: Drafts per cue that :meth:`TransformerGenerator.generate` samples in one batch; it writes the
#: one whose key estimate agrees best with the intent's mode (:func:`pick_by_mode`), the rule the
#: VAE and the GAN use for their latent walks. 1 = plain sampling, one sequence.
DRAWS = 8
#: Ways to hand the piano texture to the intent's instruments (see the module docstring).
ORCHESTRATIONS = ("melody", "piano")
_HEADER = 5


@dataclass(frozen=True)
class TransformerConfig:
    """Shape of a :class:`MusicTransformer`.

    Parameters
    ----------
    vocab_size : int
        Number of token ids (:attr:`RemiTokenizer.vocab_size`, 581 by default).
    d_model : int
        Width of the residual stream.
    n_layers : int
        Number of Transformer blocks.
    n_heads : int
        Attention heads per block (``d_model`` must be divisible by it).
    d_ff : int
        Hidden width of each block's MLP (default ``4 * d_model``).
    context : int
        Longest sequence the model reads (positions of the learned embedding).
    dropout : float
        Dropout on attention weights and residual branches during training.

    Examples
    --------
    >>> TransformerConfig(d_model=64, n_heads=4).head_dim
    16
    """

    vocab_size: int = 581
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 0
    context: int = 512
    dropout: float = 0.1

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "context"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise InputError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if self.context < 8:
            raise InputError(f"context must be at least 8 tokens, got {self.context}")
        if not self.d_ff:
            object.__setattr__(self, "d_ff", 4 * self.d_model)
        if not 0 <= float(self.dropout) < 1:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "TransformerConfig":
        """Rebuild from :meth:`to_dict`; unknown or invalid fields raise :class:`ModelError`."""
        if not isinstance(data, dict):
            raise ModelError(f"a transformer config is a dict, not {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ModelError(f"unknown transformer config field(s) {unknown}; the checkpoint was written by "
                             "another version of scoringkit")
        try:
            return cls(**data)
        except (TypeError, InputError) as err:
            raise ModelError(f"invalid transformer config in the checkpoint ({err})") from None


class KVCache:
    """Preallocated keys and values of every layer for incremental decoding.

    Attributes
    ----------
    k, v : torch.Tensor, shape (n_layers, batch, n_heads, max_len, head_dim)
    length : int
        Positions filled so far.
    """

    def __init__(self, config: TransformerConfig, batch: int = 1, *, max_len=None, device=None, dtype=None):
        max_len = config.context if max_len is None else int(max_len)
        shape = (config.n_layers, batch, config.n_heads, max_len, config.head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype or torch.float32)
        self.v = torch.zeros_like(self.k)
        self.length = 0
        self.max_len = max_len

    def update(self, layer: int, k, v):
        """Store ``k``, ``v`` (batch, heads, T, head_dim) after the filled part; return all keys/values so far."""
        start, end = self.length, self.length + k.shape[2]
        if end > self.max_len:
            raise InputError(f"the KV cache holds {self.max_len} positions; cannot add {k.shape[2]} after {start}")
        self.k[layer, :, :, start:end] = k
        self.v[layer, :, :, start:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]


class _Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads, self.d_model, self.dropout = cfg.n_heads, cfg.d_model, cfg.dropout
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cache=None, layer: int = 0):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.update(layer, k, v)
        if past == 0:
            mask, causal = None, t > 1
        elif t == 1:
            mask, causal = None, False  # one new token sees every cached position
        else:  # a chunk after cached positions: row i sees keys 0 .. past + i
            mask = torch.ones(t, past + t, dtype=torch.bool, device=x.device).tril(diagonal=past)
            causal = False
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, dropout_p=drop)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class MusicTransformer(nn.Module):
    """Decoder-only pre-LN Transformer language model over token ids.

    ``forward(ids, cache=None)`` takes a LongTensor ``(batch, T)`` and returns logits
    ``(batch, T, vocab_size)``; with a :class:`KVCache` the ids continue the cached
    positions and the cache advances by ``T``.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.d_model)
        self.pos = nn.Embedding(config.context, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2: scale the residual projections by depth
            for lin in (block.proj, block.fc2):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def n_parameters(self) -> int:
        """Number of trainable parameters (the tied output layer counted once)."""
        return sum(p.numel() for p in self.parameters())

    def new_cache(self, batch: int = 1) -> KVCache:
        """An empty :class:`KVCache` on this model's device and dtype."""
        weight = self.tok.weight
        return KVCache(self.config, batch, device=weight.device, dtype=weight.dtype)

    #: First position that :meth:`_step` (the one-token fast path, which embeds ids with ``tok`` directly)
    #: may compute; a subclass whose :meth:`embed` changes an early position raises it past that position.
    _fast_from = 1

    def embed(self, ids, start: int = 0):
        """Input embeddings of ``ids`` (batch, T) at positions ``start ..``, before the positional ones.

        The token embedding here; a subclass can override it to condition on something other than a
        header token (:mod:`~scoringkit.generate.models.text_conditioned` replaces the quadrant slot).
        """
        return self.tok(ids)

    def forward(self, ids, cache: KVCache | None = None):
        b, t = ids.shape
        if cache is not None and t == 1 and not self.training and \
                max(1, self._fast_from) <= cache.length < self.config.context:
            return self._step(ids, cache)
        start = cache.length if cache is not None else 0
        if start + t > self.config.context:
            raise InputError(f"the model reads at most {self.config.context} tokens; got {start + t} "
                             "(generate longer pieces in windows, as sample_tokens does)")
        positions = torch.arange(start, start + t, device=ids.device)
        x = self.drop(self.embed(ids, start) + self.pos(positions))
        for layer, block in enumerate(self.blocks):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += t
        return F.linear(self.ln_f(x), self.tok.weight)

    def _step(self, ids, cache: KVCache):
        """One new token after cached ones: the same arithmetic as :meth:`forward` (eval mode),
        written with functional calls only, because at one token per call the cost of calling
        ~40 modules and no-op dropouts is as large as the arithmetic (about 2.5x faster)."""
        cfg = self.config
        b, d, h = ids.shape[0], cfg.d_model, cfg.n_heads
        n = cache.length
        x = F.embedding(ids[:, 0], self.tok.weight) + self.pos.weight[n]
        for layer, blk in enumerate(self.blocks):
            y = F.layer_norm(x, (d,), blk.ln1.weight, blk.ln1.bias, blk.ln1.eps)
            q, k, v = F.linear(y, blk.qkv.weight, blk.qkv.bias).view(b, 3, h, d // h).unbind(1)
            cache.k[layer, :, :, n] = k
            cache.v[layer, :, :, n] = v
            y = F.scaled_dot_product_attention(q.unsqueeze(2), cache.k[layer, :, :, :n + 1],
                                               cache.v[layer, :, :, :n + 1])
            x = x + F.linear(y.reshape(b, d), blk.proj.weight, blk.proj.bias)
            y = F.layer_norm(x, (d,), blk.ln2.weight, blk.ln2.bias, blk.ln2.eps)
            x = x + F.linear(F.gelu(F.linear(y, blk.fc1.weight, blk.fc1.bias)), blk.fc2.weight, blk.fc2.bias)
        cache.length += 1
        x = F.layer_norm(x, (d,), self.ln_f.weight, self.ln_f.bias, self.ln_f.eps)
        return F.linear(x, self.tok.weight).unsqueeze(1)


# -- sampling ---------------------------------------------------------------------------------
def filter_logits(logits, *, top_k: int = 0, top_p: float = 1.0):
    """Keep the ``top_k`` largest logits and the smallest set with probability ≥ ``top_p``; the rest → −inf.

    Parameters
    ----------
    logits : torch.Tensor, shape (..., vocab)
    top_k : int
        0 (or ≥ vocab) keeps all.
    top_p : float
        In (0, 1]; 1 keeps all. The most likely token always stays.

    Examples
    --------
    >>> import torch
    >>> filter_logits(torch.tensor([1.0, 3.0, 2.0, 0.0]), top_k=2)
    tensor([-inf, 3., 2., -inf])
    >>> p = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    >>> torch.isfinite(filter_logits(p, top_p=0.75)).tolist()
    [True, True, False, False]
    """
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 0:
        raise InputError(f"top_k must be an integer >= 0 (0 = off), got {top_k!r}")
    if not isinstance(top_p, numbers.Real) or not 0 < float(top_p) <= 1:
        raise InputError(f"top_p must be in (0, 1] (1 = off), got {top_p!r}")
    out = logits
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(out, int(top_k), dim=-1).values[..., -1:]
        out = out.masked_fill(out < kth, float("-inf"))
    if top_p < 1:
        sorted_logits, order = torch.sort(out, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # probability of the better tokens
        remove = before >= float(top_p)
        remove[..., 0] = False
        out = out.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
    return out


#: Grammar masks (and their allowed ids) per (vocabulary, settings) and state, shared by every :class:`RemiGrammar`.
_GRAMMAR_MASKS: dict = {}
_GRAMMAR_IDS: dict = {}


class RemiGrammar:
    """What :meth:`RemiTokenizer.encode` could write next: a mask of allowed ids for the sampler.

    The state follows the bar being written: after ``Pitch`` only a ``Velocity``, after
    ``Velocity`` only a ``Duration``, a ``Position`` only later in the bar than the last
    one and inside the meter, a note only after a ``Program``, the notes of one program at
    one onset in rising pitch order (the encoder sorts them so; this also rules out the same
    note twice) and at most ``max_onset_notes`` of them, ``PAD``/``BOS``/condition/
    ``TimeSig`` never inside the body. ``EOS`` is allowed only when ``allow_eos`` is set.
    Give it the prompt with :meth:`feed`; the sampler calls :meth:`mask` and :meth:`feed`.

    Examples
    --------
    >>> tok = RemiTokenizer()
    >>> g = RemiGrammar(tok)
    >>> g.feed([tok["BOS"], tok["Q1"], tok["TimeSig_3/4"], tok["Key_C_major"], tok["Tempo_120.0"], tok["Bar"]])
    >>> allowed = g.mask()
    >>> bool(allowed[tok["Position_11"]]), bool(allowed[tok["Position_12"]]), bool(allowed[tok["Pitch_60"]])
    (True, False, False)
    """

    def __init__(self, tokenizer: RemiTokenizer, *, allow_eos: bool = False, max_onset_notes: int = 12):
        self.tokenizer = tokenizer
        self.allow_eos = allow_eos
        self.max_onset_notes = int(max_onset_notes)
        r = tokenizer.id_ranges()
        size = tokenizer.vocab_size
        kinds = torch.zeros(size, dtype=torch.long)  # 0 other, 1 Bar, 2 Position, 3 Program, 4 note, 5 vel, 6 dur, 7 tempo/key, 8 meter
        codes = {"Bar": 1, "Position": 2, "Program": 3, "Pitch": 4, "DrumPitch": 4, "Velocity": 5, "Duration": 6,
                 "Tempo": 7, "Key": 7, "TimeSig": 8}
        self._family = {}
        for name, code in codes.items():
            start, count = r[name]
            kinds[start:start + count] = code
            self._family[name] = torch.zeros(size, dtype=torch.bool)
            self._family[name][start:start + count] = True
        self._kinds = kinds.tolist()
        self._pos0, self._npos = r["Position"]
        self._pitch0, self._drum0 = r["Pitch"][0], r["DrumPitch"][0]
        self._meter0 = r["TimeSig"][0]
        self._prog0 = r["Program"][0]
        self._drum_prog = self._prog0 + 128
        f = self._family
        self._after_bar = f["Bar"] | f["Position"]
        self._after_pos = f["Tempo"] | f["Key"] | f["Program"] | f["Pitch"] | f["DrumPitch"]
        self._after_change = f["Key"] | f["Program"] | f["Pitch"] | f["DrumPitch"]
        self._after_dur = f["Program"] | f["Pitch"] | f["DrumPitch"] | f["Position"] | f["Bar"]
        self._only = {"Velocity": f["Velocity"], "Duration": f["Duration"]}
        self._pitch, self._drum = f["Pitch"], f["DrumPitch"]
        self.bar_positions = 4 * tokenizer.resolution
        key = (tokenizer.vocab_hash, bool(allow_eos), self.max_onset_notes)
        self._masks = _GRAMMAR_MASKS.setdefault(key, {})
        self._ids = _GRAMMAR_IDS.setdefault(key, {})
        self.reset()

    def reset(self):
        self.bars = 0
        self.last = None  # kind code of the last token
        self.position = -1
        self.program = None
        self.last_note = -1  # last pitch (or drum key) written at this onset and program
        self.onset_notes = 0
        self.bar_positions = 4 * self.tokenizer.resolution

    def feed(self, ids):
        """Advance the state over ``ids`` (a list, or one int)."""
        for i in ([ids] if isinstance(ids, numbers.Integral) else ids):
            i = int(i)
            kind = self._kinds[i]
            if kind == 8 and self.bars == 0:
                n, d = METERS[i - self._meter0]
                self.bar_positions = round(n * 4 * self.tokenizer.resolution / d)
            elif kind == 1:
                self.bars += 1
                self.position, self.program = -1, None
                self.last_note, self.onset_notes = -1, 0
            elif kind == 2:
                self.position = i - self._pos0
                self.last_note, self.onset_notes = -1, 0
            elif kind == 3:
                self.program = i
                self.last_note = -1
            elif kind == 4:
                self.last_note = i - (self._drum0 if i >= self._drum0 else self._pitch0)
                self.onset_notes += 1
            self.last = kind

    def mask(self):
        """Bool tensor (vocab,): True where the next id is allowed (shared: do not modify it).

        Masks are kept per grammar state (a few hundred states occur in practice), so after the
        first bars a call is one dictionary look-up instead of a dozen tensor operations.
        """
        state = self._state()
        allowed = self._masks.get(state)
        if allowed is None:
            allowed = self._compute_mask()
            if len(self._masks) < 50_000:
                self._masks[state] = allowed
        return allowed

    def allowed_ids(self):
        """The ids :meth:`mask` allows, as a sorted NumPy int array (shared: do not modify)."""
        state = self._state()
        ids = self._ids.get(state)
        if ids is None:
            import numpy as np

            ids = np.flatnonzero(self.mask().cpu().numpy())
            if len(self._ids) < 50_000:
                self._ids[state] = ids
        return ids

    def _state(self):
        """Everything :meth:`mask` depends on."""
        program = None if self.program is None else self.program == self._drum_prog
        return (self.last, self.bars == 0, self.position, self.bar_positions, program, self.last_note,
                self.onset_notes >= self.max_onset_notes)

    def _compute_mask(self):
        last = self.last
        if last == 4:
            return self._only["Velocity"]
        if last == 5:
            return self._only["Duration"]
        if self.bars == 0 or last == 1:
            allowed = self._after_bar.clone()
        elif last == 2:
            allowed = self._after_pos.clone()
        elif last == 7:
            allowed = self._after_change.clone()
        elif last == 3:
            allowed = (self._drum if self.program == self._drum_prog else self._pitch).clone()
        else:  # after a Duration (or anything unexpected)
            allowed = self._after_dur.clone()
        if self.bars == 0:
            allowed[:] = False
            allowed[self.tokenizer.bar_id] = True
            return allowed
        # positions only forward and inside the bar
        lo = self._pos0 + self.position + 1
        hi = self._pos0 + self.bar_positions
        allowed[self._pos0:lo] = False
        allowed[hi:self._pos0 + self._npos] = False
        if self.program is None:  # a note needs a Program first in every bar
            allowed &= ~(self._pitch | self._drum)
        elif last != 3:
            if self.program == self._drum_prog:
                allowed &= ~self._pitch
            else:
                allowed &= ~self._drum
        if self.last_note >= 0:  # rising order at one onset
            allowed[self._pitch0:self._pitch0 + self.last_note + 1] = False
            allowed[self._drum0:self._drum0 + self.last_note + 1] = False
        if self.onset_notes >= self.max_onset_notes:
            allowed &= ~(self._pitch | self._drum | self._family["Program"])
        if not allowed.any():  # e.g. Program followed by nothing it may play: move on
            allowed = self._family["Bar"] | self._family["Position"]
            allowed[self._pos0:lo] = False
            allowed[hi:self._pos0 + self._npos] = False
        if self.allow_eos and last in (1, 6):
            allowed[self.tokenizer.eos_id] = True
        return allowed


def _check_sampling(temperature, top_k, top_p, guidance):
    if not isinstance(temperature, numbers.Real) or not 0 < float(temperature) <= 10:
        raise InputError(f"temperature must be in (0, 10], got {temperature!r}")
    filter_logits(torch.zeros(2), top_k=top_k, top_p=top_p)  # validates both
    if not isinstance(guidance, numbers.Real) or not 0 <= float(guidance) <= 10:
        raise InputError(f"guidance must be in [0, 10] (1 = off), got {guidance!r}")


class _Packed:
    """A model's weights laid out for decoding one position per row.

    Matrices are stored transposed and contiguous, because on a CPU ``addmm(b, x, Wᵀ)`` with a
    ready ``Wᵀ`` is faster than ``F.linear(x, W, b)`` for a few rows, and everything is a plain
    tensor in a tuple, because at one token per call the look-ups of ~40 modules cost as much as
    the arithmetic. Built once per model and rebuilt when a parameter changes (see :func:`_packed`).

    The feed-forward weights are scaled so that the exact GELU costs one ``erf`` and two in-place
    operations: with ``u = h / √2`` (``fc1`` scaled by ``1/√2``),
    ``GELU(h) = h · (1 + erf(h/√2)) / 2 = u · (1 + erf(u)) / √2``, and the last ``1/√2`` goes
    into ``fc2``'s matrix. ``F.gelu`` on one row costs about twice those three operations.

    For a float32 model on the CPU, :attr:`arrays` holds NumPy views of the same matrices (no
    copy): :meth:`_Decoder.step` multiplies with NumPy's BLAS (OpenBLAS in NumPy's wheels), which
    on the development machine's AMD CPU took 16-22 µs per one-row product where ``torch.addmm``
    (MKL) took 22-31 µs (``benchmarks/bench_generators.py --speed`` measures the whole sampler).
    None elsewhere (a GPU, half precision): the step stays in PyTorch.
    """

    def __init__(self, model: "MusicTransformer"):
        def tr(linear, scale=1.0):
            return (linear.weight.detach().t() * scale).contiguous()

        root_half = 1.0 / math.sqrt(2.0)
        self.layers = [(blk.ln1.weight.detach(), blk.ln1.bias.detach(), blk.ln1.eps, tr(blk.qkv), blk.qkv.bias.detach(),
                        tr(blk.proj), blk.proj.bias.detach(), blk.ln2.weight.detach(), blk.ln2.bias.detach(),
                        blk.ln2.eps, tr(blk.fc1, root_half), blk.fc1.bias.detach() * root_half,
                        tr(blk.fc2, root_half), blk.fc2.bias.detach())
                       for blk in model.blocks]
        self.tok = model.tok.weight.detach()
        self.pos = model.pos.weight.detach()
        self.out = self.tok.t().contiguous()
        self.ln_f = (model.ln_f.weight.detach(), model.ln_f.bias.detach(), model.ln_f.eps)
        self.arrays = None
        if self.tok.device.type == "cpu" and self.tok.dtype == torch.float32:
            self.arrays = ([tuple(layer[i].numpy() for i in (3, 4, 5, 6, 10, 11, 12, 13)) for layer in self.layers],
                           self.tok.numpy(), self.pos.numpy(), self.out.numpy())


_PACKED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _packed(model) -> _Packed:
    """The :class:`_Packed` weights of ``model``, rebuilt if any parameter was replaced or changed in place."""
    signature = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in model.parameters())
    hit = _PACKED.get(model)
    if hit is None or hit[0] != signature:
        hit = (signature, _Packed(model))
        _PACKED[model] = hit
    return hit[1]


#: False: every :class:`_Decoder` computes in PyTorch even where NumPy's products are available
#: (the benchmark's comparison row; see :attr:`_Packed.arrays`).
_NUMPY_PRODUCTS = True

#: Positions of every :class:`_Decoder`'s buffer, overriding its ``capacity`` argument; None: as
#: asked, at most twice the context (tests set it small to exercise compaction).
_DECODER_CAPACITY = None


def _capacity_for(model, prompt_length: int, max_new_tokens: int) -> int:
    """Positions a :class:`_Decoder` needs to continue a ``prompt_length`` window by ``max_new_tokens``.

    Just what the run can reach, up to twice the context (beyond it the windows are compacted),
    because a fresh buffer costs its memory's first touch: 8 MB for one row at the full 1,024
    positions, about as long as 20 tokens' arithmetic.
    """
    context = model.config.context
    return min(2 * context, int(prompt_length) + max(1, int(max_new_tokens)) + 1)


class _Decoder:
    """Incremental decoding of several rows at once, each row with its own window.

    All rows share one preallocated key/value buffer of ``capacity`` positions (default twice the
    context) and write their next position at the same index ``n``; row ``r`` holds its window in
    ``[starts[r], n)`` and reads its position embedding as ``n - starts[r]``. A row that is
    rewindowed (:meth:`load`) gets a new window that ends at ``n``, so rows can restart at
    different times and still advance together: keys left of a row's start are masked out of its
    attention. When ``n`` reaches the capacity the windows are moved to the left (:meth:`_compact`).
    Every row computes exactly what a lone sequence would (up to float rounding of batched products).
    """

    def __init__(self, model: "MusicTransformer", rows: int, *, capacity=None):
        cfg = model.config
        weight = model.tok.weight
        self.model, self.config, self.w = model, cfg, _packed(model)
        # NumPy products where the model allows them (see _Packed.arrays and _NUMPY_PRODUCTS)
        self.arrays = self.w.arrays is not None and _NUMPY_PRODUCTS
        self.capacity = int(_DECODER_CAPACITY or capacity or 2 * cfg.context)
        self.device = weight.device
        # keys and values of a layer side by side, so one copy stores a position's pair
        shape = (cfg.n_layers, rows, 2, cfg.n_heads, self.capacity, cfg.head_dim)
        self.kv = torch.zeros(shape, dtype=weight.dtype, device=weight.device)
        self.n = 0
        self.starts = [0] * rows
        self._arange = torch.arange(self.capacity, device=weight.device)
        self._sync()

    @property
    def k(self):
        """Keys ``(n_layers, rows, n_heads, capacity, head_dim)`` (a view of :attr:`kv`)."""
        return self.kv.select(2, 0)

    @property
    def v(self):
        """Values, shaped as :attr:`k` (a view of :attr:`kv`)."""
        return self.kv.select(2, 1)

    def _sync(self):
        self._kv = list(self.kv.unbind(0))
        self._k, self._v = list(self.k.unbind(0)), list(self.v.unbind(0))
        self._starts = torch.tensor(self.starts, dtype=torch.long, device=self.device)
        self._uniform = len(set(self.starts)) <= 1
        self._kv_arrays = [layer.numpy() for layer in self._kv] if self.arrays else None

    @property
    def rows(self) -> int:
        return len(self.starts)

    def width(self, row: int) -> int:
        """Positions in the window of ``row``."""
        return self.n - self.starts[row]

    def load(self, rows, windows):
        """Read ``windows[i]`` (lists of ids) into row ``rows[i]``, ending at the current end; return their
        next-token logits ``(len(rows), vocab)``. Identical windows are computed once."""
        context = self.config.context
        longest = max(len(w) for w in windows)
        if longest > context:
            raise InputError(f"the prompt ({longest} tokens) is longer than the context ({context})")
        if self.n == 0:
            self.n = longest
        elif longest > self.n:
            raise InputError(f"cannot load a window of {longest} tokens after only {self.n} positions")
        groups: dict = {}
        for i, window in enumerate(windows):
            groups.setdefault(tuple(int(t) for t in window), []).append(i)
        by_length: dict = {}
        for window in groups:
            by_length.setdefault(len(window), []).append(window)
        out = torch.empty(len(rows), self.config.vocab_size, dtype=self.k.dtype, device=self.device)
        for length, unique in by_length.items():
            cache = KVCache(self.config, len(unique), max_len=length, device=self.device, dtype=self.k.dtype)
            logits = self.model(torch.tensor(unique, dtype=torch.long, device=self.device), cache)[:, -1]
            for j, window in enumerate(unique):
                members = groups[window]
                index = torch.tensor([rows[i] for i in members], dtype=torch.long, device=self.device)
                self.k[:, index, :, self.n - length:self.n] = cache.k[:, j:j + 1]
                self.v[:, index, :, self.n - length:self.n] = cache.v[:, j:j + 1]
                out[members] = logits[j]
                for i in members:
                    self.starts[rows[i]] = self.n - length
        self._sync()
        return out

    def reorder(self, rows):
        """Keep (and repeat) the given rows in this order: drop finished rows, fork beams."""
        index = torch.tensor(list(rows), dtype=torch.long, device=self.device)
        self.kv = self.kv.index_select(1, index)
        self.starts = [self.starts[int(r)] for r in rows]
        self._sync()

    def _compact(self):
        shift = min(self.starts)
        if shift == 0:  # cannot happen while windows are at most one context and capacity > context
            raise InputError(f"no room left in a decoding buffer of {self.capacity} positions")
        keep = self.n - shift
        self.kv[..., :keep, :] = self.kv[..., shift:self.n, :].clone()
        self.n = keep
        self.starts = [s - shift for s in self.starts]
        self._sync()

    def step(self, ids):
        """Append one id per row (a list of ints or a LongTensor ``(rows,)``) and return next-token
        logits ``(rows, vocab)``.

        The arithmetic of :meth:`MusicTransformer.forward` in eval mode for one new position: with
        NumPy's BLAS for the matrix products of a float32 model on the CPU (:meth:`_step_arrays`),
        in PyTorch otherwise (:meth:`_step_tensors`); the two agree to float rounding (tested).
        """
        if self.n >= self.capacity:
            self._compact()
        if self._kv_arrays is not None:
            return self._step_arrays(ids.tolist() if isinstance(ids, torch.Tensor) else list(ids))
        if not isinstance(ids, torch.Tensor):
            ids = torch.tensor(ids, dtype=torch.long, device=self.device)
        return self._step_tensors(ids)

    def _new_position(self, b: int):
        """Index of this step's position embedding (an int, or one per row) and the attention mask."""
        n, first, context = self.n, min(self.starts), self.config.context
        # a row about to be rewindowed computes a throw-away position here: keep its index in range
        if self._uniform:
            return min(n - first, context - 1), None
        mask = (self._arange[first:n + 1] >= self._starts[:, None]).view(b, 1, 1, -1)
        return (n - self._starts).clamp_(max=context - 1), mask

    def _step_tensors(self, ids):
        w, cfg, n = self.w, self.config, self.n
        b, d, h = ids.shape[0], cfg.d_model, cfg.n_heads
        position, mask = self._new_position(b)
        x = w.tok[ids] + w.pos[position]
        first = min(self.starts)
        shape, span, head = [d], n + 1 - first, d // h
        addmm, layer_norm, erf, attend = torch.addmm, torch.layer_norm, torch.erf, F.scaled_dot_product_attention
        for layer, (g1, c1, e1, wqkv, bqkv, wp, bp, g2, c2, e2, w1, b1, w2, b2) in enumerate(w.layers):
            qkv = addmm(bqkv, layer_norm(x, shape, g1, c1, e1), wqkv).view(b, 3, h, 1, head)
            self._kv[layer].narrow(3, n, 1).copy_(qkv.narrow(1, 1, 2))  # this position's keys and values
            y = attend(qkv.select(1, 0), self._k[layer].narrow(2, first, span), self._v[layer].narrow(2, first, span),
                       mask)
            x = addmm(bp, y.view(b, d), wp).add_(x)
            u = addmm(b1, layer_norm(x, shape, g2, c2, e2), w1)  # pre-activation / √2 (see _Packed)
            x = addmm(b2, erf(u).add_(1.0).mul_(u), w2).add_(x)
        self.n = n + 1
        return torch.mm(layer_norm(x, shape, *w.ln_f), w.out)

    def _step_arrays(self, ids: list):
        """:meth:`_step_tensors` with the products in NumPy; the residual stream ``x`` is one array that
        a tensor views, so layer norm, attention and ``erf`` stay PyTorch calls without copies."""
        import numpy as np

        w, cfg, n = self.w, self.config, self.n
        layers, tok, pos, out = w.arrays
        b, d, h = len(ids), cfg.d_model, cfg.n_heads
        position, mask = self._new_position(b)
        xa = tok[ids] + pos[position if isinstance(position, int) else position.numpy()]
        x = torch.from_numpy(xa)
        first = min(self.starts)
        shape, span, head = [d], n + 1 - first, d // h
        layer_norm, erf, attend, dot, tensor = torch.layer_norm, torch.erf, F.scaled_dot_product_attention, np.dot, \
            torch.from_numpy
        for (g1, c1, e1, _, _, _, _, g2, c2, e2, *_), (wqkv, bqkv, wp, bp, w1, b1, w2, b2), k, v, kv_array in zip(
                w.layers, layers, self._k, self._v, self._kv_arrays):
            qkv = dot(layer_norm(x, shape, g1, c1, e1).numpy(), wqkv)
            qkv += bqkv
            qkv = qkv.reshape(b, 3, h, head)
            kv_array[:, :, :, n] = qkv[:, 1:]  # this position's keys and values
            y = attend(tensor(qkv[:, 0, :, None]), k.narrow(2, first, span), v.narrow(2, first, span), mask)
            xa += dot(y.view(b, d).numpy(), wp)
            xa += bp
            u = dot(layer_norm(x, shape, g2, c2, e2).numpy(), w1)  # pre-activation / √2 (see _Packed)
            u += b1
            u_tensor = tensor(u)
            xa += dot(erf(u_tensor).add_(1.0).mul_(u_tensor).numpy(), w2)
            xa += b2
        self.n = n + 1
        return tensor(dot(layer_norm(x, shape, *w.ln_f).numpy(), out))


def _rng(seed, stream: int = 0):
    """The NumPy generator that draws the tokens of ``seed`` (and ``stream``, for the rows of a beam search)."""
    import numpy as np

    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed) % 2 ** 64, int(stream)])))


class _Picker:
    """From next-token logits to one id per sequence, in NumPy on each sequence's allowed ids.

    For each sequence: classifier-free guidance ``l_none + guidance · (l_cond − l_none)``,
    plus ``logit_bias`` (if the bias rules out every id the grammar allows, the unbiased
    logits), divided by ``temperature``, restricted to the grammar's ids, then the ``top_k``
    most likely and the smallest set of them holding ``top_p`` of their probability (the most
    likely id always stays; the distribution of :func:`filter_logits`), and one draw by
    inverting the cumulative distribution at a uniform number from the sequence's generator.
    Working on the few ids a grammar allows (a velocity, a duration, ...) with NumPy costs a
    few microseconds per token, where the same steps as tensor operations over the whole
    vocabulary cost about a tenth of a token's forward pass.
    """

    def __init__(self, *, temperature, top_k, top_p, guidance, logit_bias, vocab_size):
        import numpy as np

        self.np = np
        self.temperature, self.top_k, self.top_p = float(temperature), int(top_k), float(top_p)
        self.guidance = float(guidance)
        self.guided = self.guidance != 1.0
        self.bias = None if logit_bias is None else logit_bias.detach().double().cpu().numpy()
        self.all_ids = np.arange(vocab_size)

    def raw(self, logits, n_seq: int):
        """Each sequence's (guided) logits ``(n_seq, vocab)`` as a NumPy array."""
        x = logits.detach()
        x = (x if x.dtype == torch.float32 and x.device.type == "cpu" else x.float().cpu()).numpy()
        if self.guided:
            x = x.astype(self.np.float64)
            return x[n_seq:2 * n_seq] + self.guidance * (x[:n_seq] - x[n_seq:2 * n_seq])
        return x[:n_seq]

    def pick(self, raw, grammar, rng) -> int:
        """Draw one id from one sequence's guided logits ``raw`` (vocab,)."""
        np = self.np
        ids = grammar.allowed_ids() if grammar is not None else self.all_ids
        z = raw[ids].astype(np.float64)
        if self.bias is not None:
            biased = z + self.bias[ids]
            if np.isfinite(biased).any():
                z = biased
        if self.temperature != 1.0:
            z = z / self.temperature
        p = np.exp(z - z.max())
        order = np.argsort(-p, kind="stable")
        p = p[order]
        cum = np.cumsum(p)
        k = len(p) if not self.top_k or self.top_k >= len(p) else self.top_k
        keep = min(k, int(np.searchsorted(cum - p, self.top_p * cum[k - 1], side="left")), int(np.count_nonzero(p)))
        keep = max(1, keep)
        j = min(int(np.searchsorted(cum, rng.random() * cum[keep - 1], side="right")), keep - 1)
        return int(ids[order[j]])

    @staticmethod
    def log_prob(raw_row, token: int) -> float:
        """``log softmax(raw_row)[token]`` (the model's own log-probability of ``token``)."""
        import numpy as np

        row = np.asarray(raw_row, dtype=np.float64)
        top = row.max()
        return float(row[token] - top - np.log(np.exp(row - top).sum()))


def _sample_rows(model, prompts, *, seeds, max_new_tokens, temperature, top_k, top_p, guidance,
                 unconditional_prompts, grammars, stops, rewindow, logit_bias) -> list:
    """The KV-cache sampler behind :func:`sample_tokens` and :func:`sample_batch` (arguments checked there)."""
    n_seq = len(prompts)
    guided = float(guidance) != 1.0
    context = model.config.context
    tokens = [list(p) for p in prompts]
    rngs = [_rng(s) for s in seeds]
    picker = _Picker(temperature=temperature, top_k=top_k, top_p=top_p, guidance=guidance, logit_bias=logit_bias,
                     vocab_size=model.config.vocab_size)
    if grammars is not None:
        for grammar, seq in zip(grammars, tokens):
            if grammar is not None:
                grammar.feed(seq)
    windows = tokens + ([list(u) for u in unconditional_prompts] if guided else [])
    decoder = _Decoder(model, len(windows), capacity=_capacity_for(model, max(map(len, windows)), max_new_tokens))
    logits = decoder.load(list(range(len(windows))), windows)
    active = list(range(n_seq))  # sequence of each row (the unconditional rows follow, in the same order)
    for step in range(int(max_new_tokens)):
        n_active = len(active)
        raw = picker.raw(logits, n_active)
        keep, new, full = [], [], []
        for i, s in enumerate(active):
            token = picker.pick(raw[i], grammars[s] if grammars is not None else None, rngs[s])
            if stops is not None and stops[s] is not None and stops[s](token):
                continue
            tokens[s].append(token)
            if grammars is not None and grammars[s] is not None:
                grammars[s].feed(token)
            if decoder.width(i) >= context:  # the window is full: go on from a new one, or stop
                if rewindow is None:
                    continue
                full.append(len(keep))
            keep.append(i)
            new.append(token)
        if not keep or step + 1 == int(max_new_tokens):
            break
        if len(keep) < n_active:
            decoder.reorder(keep + ([n_active + i for i in keep] if guided else []))
            active = [active[i] for i in keep]
            n_active = len(active)
        logits = decoder.step(new + (new if guided else []))
        if full:
            rows, windows = [], []
            for i in full:
                cond, none = rewindow(tokens[active[i]])
                rows.append(i)
                windows.append(list(cond))
                if guided:
                    if none is None or len(none) != len(cond):
                        raise InputError("rewindow must return an unconditional window of the same length "
                                         "when guidance != 1")
                    rows.append(n_active + i)
                    windows.append(list(none))
            logits[rows] = decoder.load(rows, windows)
    return tokens


def _prepare(model, temperature, top_k, top_p, guidance, logit_bias, threads):
    _check_sampling(temperature, top_k, top_p, guidance)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral)
                                or threads < 1):
        raise InputError(f"threads must be a positive integer or None, got {threads!r}")
    if logit_bias is not None:
        logit_bias = torch.as_tensor(logit_bias, dtype=torch.float32, device=model.tok.weight.device)
        if logit_bias.shape != (model.config.vocab_size,):
            raise InputError(f"logit_bias must have shape ({model.config.vocab_size},), "
                             f"got {tuple(logit_bias.shape)}")
    return logit_bias


class _Threads:
    """Run a block with ``n`` CPU threads for PyTorch and NumPy's BLAS (None: leave their settings) and put
    the model in eval mode."""

    def __init__(self, model, n):
        self.model, self.n = model, n

    def __enter__(self):
        self.was_training, self.saved = self.model.training, torch.get_num_threads()
        self.model.eval()
        self.blas = None
        if self.n is not None:
            torch.set_num_threads(max(1, int(self.n)))
            from ..._blas import blas_threads

            self.blas = blas_threads(self.n)  # at least 1
            self.blas.__enter__()

    def __exit__(self, *exc):
        self.model.train(self.was_training)
        torch.set_num_threads(self.saved)
        if self.blas is not None:
            self.blas.__exit__(*exc)


@torch.inference_mode()
def sample_tokens(model: MusicTransformer, prompt, *, max_new_tokens: int, temperature: float = 1.0,
                  top_k: int = 0, top_p: float = 1.0, seed: int = 0, use_cache: bool = True, grammar=None,
                  guidance: float = 1.0, unconditional_prompt=None, stop=None, rewindow=None,
                  logit_bias=None, threads=1) -> list:
    """Continue ``prompt`` with up to ``max_new_tokens`` sampled tokens.

    Parameters
    ----------
    model : MusicTransformer
    prompt : sequence of int
        At least one id.
    max_new_tokens : int
    temperature, top_k, top_p
        See :func:`filter_logits`; applied in this order.
    seed : int
        Seed of the generator that draws the tokens (NumPy PCG64).
    use_cache : bool
        Keep keys and values in a preallocated buffer and compute one position per token
        (default); False recomputes the whole prefix for every token (the reference the cached
        path is tested against, and for timing).
    grammar : RemiGrammar, optional
        Restricts each step to the ids it allows; it is fed the prompt first.
    guidance : float
        Classifier-free guidance weight; 1 = off. Needs ``unconditional_prompt``.
    unconditional_prompt : sequence of int, optional
        The prompt with its condition token replaced by ``Qnone`` (same length).
    stop : callable, optional
        ``stop(token) -> bool`` is called with each sampled id *before* it is appended;
        True ends sampling without appending it.
    rewindow : callable, optional
        ``rewindow(tokens) -> (prompt, unconditional_prompt)`` gives the context to go on
        from when ``tokens`` fills the model's context; without it sampling stops there.
    logit_bias : torch.Tensor, shape (vocab,), optional
        Added to every step's (guided) logits before the temperature, e.g. a penalty on
        out-of-scale pitches (:func:`scale_bias`). Where it rules out every id the grammar
        allows, that step samples from the unbiased logits.
    threads : int or None
        CPU threads while sampling (default 1: one token at a time is a chain of small
        matrix-vector products, which extra threads slow down, badly so on a busy machine;
        measured 4 ms vs 60 ms per token on 2 loaded cores), for PyTorch and for NumPy's BLAS.
        None keeps their settings.

    Returns
    -------
    list of int
        The prompt followed by the new tokens (never rewindowed: the whole piece).

    See Also
    --------
    sample_batch : several seeds in one batch (much more tokens per second).
    """
    logit_bias = _prepare(model, temperature, top_k, top_p, guidance, logit_bias, threads)
    tokens = [int(i) for i in prompt]
    if not tokens:
        raise InputError("the prompt needs at least one token (e.g. the header from header_ids)")
    guided = float(guidance) != 1.0
    if guided and (unconditional_prompt is None or len(unconditional_prompt) != len(tokens)):
        raise InputError("guidance != 1 needs an unconditional_prompt of the same length as the prompt")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if len(tokens) > model.config.context:
        raise InputError(f"the prompt ({len(tokens)} tokens) is longer than the context ({model.config.context})")
    with _Threads(model, threads):
        if use_cache:
            return _sample_rows(model, [tokens], seeds=[seed], max_new_tokens=max_new_tokens,
                                temperature=temperature, top_k=top_k, top_p=top_p, guidance=guidance,
                                unconditional_prompts=[unconditional_prompt] if guided else None,
                                grammars=[grammar], stops=[stop], rewindow=rewindow, logit_bias=logit_bias)[0]
        return _sample_recompute(model, tokens, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                                 top_p=top_p, seed=seed, grammar=grammar, guidance=guidance,
                                 unconditional_prompt=unconditional_prompt, stop=stop, rewindow=rewindow,
                                 logit_bias=logit_bias)


def _sample_recompute(model, tokens, *, max_new_tokens, temperature, top_k, top_p, seed, grammar, guidance,
                      unconditional_prompt, stop, rewindow, logit_bias):
    """``sample_tokens(use_cache=False)``: the whole window through :meth:`MusicTransformer.forward` per token."""
    guided = float(guidance) != 1.0
    device = model.tok.weight.device
    context = model.config.context
    rng = _rng(seed)
    picker = _Picker(temperature=temperature, top_k=top_k, top_p=top_p, guidance=guidance, logit_bias=logit_bias,
                     vocab_size=model.config.vocab_size)
    if grammar is not None:
        grammar.feed(tokens)

    def start(window_cond, window_none):
        rows = [list(window_cond)] + ([list(window_none)] if guided else [])
        if len(rows[0]) > context:
            raise InputError(f"the prompt ({len(rows[0])} tokens) is longer than the context ({context})")
        return torch.tensor(rows, dtype=torch.long, device=device)

    window = start(tokens, unconditional_prompt)
    for step in range(int(max_new_tokens)):
        logits = model(window)[:, -1]
        token = picker.pick(picker.raw(logits, 1)[0], grammar, rng)
        if stop is not None and stop(token):
            break
        tokens.append(token)
        if grammar is not None:
            grammar.feed(token)
        if step + 1 == int(max_new_tokens):
            break
        if window.shape[1] + 1 > context:
            if rewindow is None:
                break
            window = start(*rewindow(tokens))
        else:
            window = torch.cat([window, torch.full((window.shape[0], 1), token, dtype=torch.long, device=device)],
                               dim=1)
    return tokens


@torch.inference_mode()
def sample_batch(model: MusicTransformer, prompt, *, seeds, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int = 0, top_p: float = 1.0, grammars=None, guidance: float = 1.0,
                 unconditional_prompt=None, stops=None, rewindow=None, logit_bias=None, threads=1) -> list:
    """Sample one continuation of ``prompt`` per seed, all in one batch.

    Each row is what :func:`sample_tokens` with that seed gives (its own
    random generator, grammar and stop; windows restart independently), computed
    together: one step multiplies every row by the weights at once, which on a CPU costs far
    less than one step per row, so ``len(seeds)`` candidates for reranking come much cheaper
    than one after the other. Tokens can differ from the one-row result only where float
    rounding of the batched products tips a draw (not seen in the tests).

    Parameters
    ----------
    model : MusicTransformer
    prompt : sequence of int
        The prompt every row starts from.
    seeds : sequence of int
        One seed per row (1 to 1000 rows).
    max_new_tokens, temperature, top_k, top_p, guidance, unconditional_prompt, rewindow, logit_bias, threads
        As in :func:`sample_tokens`.
    grammars : list of RemiGrammar, optional
        One fresh grammar per row (each is fed the prompt).
    stops : list of callable, optional
        One ``stop(token) -> bool`` per row; a row that stops leaves the batch.

    Returns
    -------
    list of list of int
        One token list per seed, in the order of ``seeds``.

    Examples
    --------
    >>> tok = RemiTokenizer()
    >>> cfg = TransformerConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=2, n_heads=2, d_ff=64, context=64)
    >>> model = MusicTransformer(cfg)
    >>> prompt = header_ids(tok, quadrant=1)
    >>> grammars = [RemiGrammar(tok), RemiGrammar(tok)]
    >>> rows = sample_batch(model, prompt, seeds=[3, 4], max_new_tokens=30, grammars=grammars)
    >>> rows[1] == sample_tokens(model, prompt, max_new_tokens=30, seed=4, grammar=RemiGrammar(tok))
    True
    """
    logit_bias = _prepare(model, temperature, top_k, top_p, guidance, logit_bias, threads)
    tokens = [int(i) for i in prompt]
    if not tokens:
        raise InputError("the prompt needs at least one token (e.g. the header from header_ids)")
    seeds = _check_seeds(seeds)
    for name, values in (("grammars", grammars), ("stops", stops)):
        if values is not None and len(values) != len(seeds):
            raise InputError(f"{name} needs one entry per seed ({len(seeds)}), got {len(values)}")
    guided = float(guidance) != 1.0
    if guided and (unconditional_prompt is None or len(unconditional_prompt) != len(tokens)):
        raise InputError("guidance != 1 needs an unconditional_prompt of the same length as the prompt")
    if len(tokens) > model.config.context:
        raise InputError(f"the prompt ({len(tokens)} tokens) is longer than the context ({model.config.context})")
    with _Threads(model, threads):
        return _sample_rows(model, [tokens] * len(seeds), seeds=seeds, max_new_tokens=max_new_tokens,
                            temperature=temperature, top_k=top_k, top_p=top_p, guidance=guidance,
                            unconditional_prompts=[list(unconditional_prompt)] * len(seeds) if guided else None,
                            grammars=list(grammars) if grammars is not None else None,
                            stops=list(stops) if stops is not None else None, rewindow=rewindow,
                            logit_bias=logit_bias)


# -- from an intent to tokens and back -------------------------------------------------------------
def header_ids(tokenizer: RemiTokenizer, *, quadrant=None, key: str = "C major", tempo: float = 120.0,
               meter=(4, 4)) -> list:
    """The five-token header ``BOS Q TimeSig Key Tempo`` that starts every sequence.

    Examples
    --------
    >>> tok = RemiTokenizer()
    >>> tok.token_names(header_ids(tok, quadrant=2, key="B minor", tempo=96))
    ['BOS', 'Q2', 'TimeSig_4/4', 'Key_B_minor', 'Tempo_95.2']
    """
    r = tokenizer.id_ranges()
    return [tokenizer.bos_id, tokenizer.condition_id(quadrant), tokenizer.meter_id(meter), tokenizer.key_id(key),
            r["Tempo"][0] + tokenizer.tempo_bin(tempo)]


def _skyline(notes, *, floor: int = 60):
    """Split piano notes into a monophonic top voice (highest note per onset, ≥ ``floor``) and the rest."""
    by_onset = {}
    for note in notes:
        by_onset.setdefault(round(note.start, 6), []).append(note)
    melody, rest = [], []
    for onset in sorted(by_onset):
        group = sorted(by_onset[onset], key=lambda n: n.pitch)
        top = group[-1]
        if top.pitch >= floor and (not melody or top.pitch >= melody[-1].pitch - 12 or melody[-1].end <= onset):
            melody.append(top)
            rest.extend(group[:-1])
        else:
            rest.extend(group)
    mono = []
    for i, note in enumerate(melody):  # legato up to the next melody onset, never overlapping
        end = note.end if i + 1 == len(melody) else min(note.end, melody[i + 1].start)
        if end - note.start > 1e-9:
            mono.append(Note(note.pitch, note.start, end - note.start, note.velocity))
    return mono, sorted(rest, key=lambda n: (n.start, n.pitch))


def scale_bias(tokenizer: RemiTokenizer, intent: MusicalIntent, penalty: float = -4.0):
    """Logit bias (vocab,) that adds ``penalty`` to every ``Pitch`` outside the intent's scale.

    The scale is ``intent.scale_name`` on its tonic (:data:`scoringkit.generate.rules.SCALES`);
    minor modes also keep the raised seventh (the leading tone of V). ``penalty`` −4 makes an
    out-of-scale pitch e⁴ ≈ 55 times less likely than the model thinks (chromatic passing
    notes stay possible); ``-inf`` forbids them; 0 is no bias.

    Examples
    --------
    >>> tok = RemiTokenizer()
    >>> bias = scale_bias(tok, MusicalIntent(tempo=70, key="A minor"))
    >>> [float(bias[tok[f"Pitch_{p}"]]) for p in (69, 70, 71, 68)]   # A, Bb, B, G#
    [0.0, -4.0, 0.0, 0.0]
    """
    from ..rules import SCALES

    steps = set(SCALES.get(intent.scale_name, SCALES[intent.mode]))
    if intent.mode == "minor":
        steps.add(11)
    allowed = {(intent.tonic + st) % 12 for st in steps}
    bias = torch.zeros(tokenizer.vocab_size)
    pitch0 = tokenizer.id_ranges()["Pitch"][0]
    for p in range(128):
        if p % 12 not in allowed:
            bias[pitch0 + p] = float(penalty)
    return bias


def steer_to_intent(notes, intent: MusicalIntent):
    """Set a sampled texture's loudness and octave from the intent (what ``steer=True`` does).

    * **loudness**: every velocity is multiplied by ``intent.velocity / mean velocity``
      (clipped to 1-127), so the model's dynamics keep their shape around the intent's level;
    * **register**: the whole texture moves by the whole number of octaves (at most one)
      that brings the mean pitch of its top voice nearest to ``intent.register``, if the
      notes stay inside the piano's range (21-108). Octaves keep the key.

    Examples
    --------
    >>> from scoringkit.types import Note
    >>> intent = MusicalIntent(tempo=70, key="C minor", register=60, velocity=50)
    >>> [(n.pitch, n.velocity) for n in steer_to_intent([Note(72, 0, 1, 100), Note(76, 1, 1, 80)], intent)]
    [(60, 56), (64, 44)]
    """
    if not notes:
        return []
    mean_velocity = sum(n.velocity for n in notes) / len(notes)
    factor = float(intent.velocity) / max(1.0, mean_velocity)
    top, _ = _skyline(notes, floor=0)
    top_mean = sum(n.pitch for n in top) / len(top) if top else sum(n.pitch for n in notes) / len(notes)
    shift = max(-1, min(1, round((float(intent.register) - top_mean) / 12)))
    low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
    while shift and not (21 <= low + 12 * shift and high + 12 * shift <= 108):
        shift -= 1 if shift > 0 else -1
    return [Note(n.pitch + 12 * shift, n.start, n.duration, min(127, max(1, round(n.velocity * factor))))
            for n in notes]


def _check_seeds(seeds) -> list:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InputError(f"seeds must be a list of integers, got {seeds!r}")
    seeds = list(seeds)
    if not 1 <= len(seeds) <= 1000 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in seeds):
        raise InputError(f"seeds must be a list of 1 to 1000 integers, got {seeds!r}")
    return [int(s) for s in seeds]


def pick_by_mode(drafts, mode: str) -> int:
    """Index of the draft whose key estimate best agrees with ``mode`` (``"major"`` or ``"minor"``).

    The mode strength of each draft (:func:`scoringkit.extract.symbolic_features`: best major
    minus best minor Krumhansl-Kessler correlation of its duration-weighted pitch classes) is
    largest for the most major-sounding draft; a major intent takes the largest, a minor one the
    smallest, the first on a tie (:func:`~scoringkit.generate.models.pianoroll.choose_by_mode`,
    as :func:`~scoringkit.generate.models.pianoroll.mode_choice` for piano-roll drafts). A draft
    without pitched notes counts as 0.

    Examples
    --------
    >>> import scoringkit as sk
    >>> def chord(*pitches):
    ...     return sk.Score(tracks=[sk.Track("piano", 0, [sk.Note(p, 0, 4) for p in pitches])])
    >>> drafts = [chord(57, 60, 64), chord(60, 64, 67)]  # A minor, C major
    >>> pick_by_mode(drafts, "major"), pick_by_mode(drafts, "minor")
    (1, 0)
    """
    from ...extract.symbolic import symbolic_features

    strengths = []
    for draft in drafts:
        try:
            strengths.append(symbolic_features(draft).mode_strength)
        except InputError:  # no notes at all
            strengths.append(0.0)
    return choose_by_mode(strengths, mode)


class TransformerGenerator:
    """A loaded model with its tokenizer and checkpoint facts; :meth:`generate` writes a cue.

    Build it with :func:`load_generator` (or directly from a model and tokenizer).
    """

    def __init__(self, model: MusicTransformer, tokenizer: RemiTokenizer, metadata: dict | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.metadata = dict(metadata or {})
        data = self.metadata.get("data", {})
        self.header_tempos = [float(t) for t in data.get("header_tempos", [120.0])] or [120.0]
        self.header_meters = [tuple(m) for m in data.get("header_meters", [[4, 4]])] or [(4, 4)]

    def __repr__(self) -> str:
        c = self.model.config
        return (f"TransformerGenerator({self.model.n_parameters() / 1e6:.2f} M parameters, d_model {c.d_model}, "
                f"{c.n_layers} layers, context {c.context})")

    def prompt_for(self, intent: MusicalIntent, *, quadrant=None):
        """Header ids for an intent (condition, meter, key, nearest training tempo) and the meter used."""
        meter = tuple(intent.meter) if tuple(intent.meter) in self.header_meters else (4, 4)
        tempo = min(self.header_tempos, key=lambda t: abs(math.log(t / intent.tempo)))
        q = intent_quadrant(intent) if quadrant is None else quadrant
        return header_ids(self.tokenizer, quadrant=q, key=intent.key, tempo=tempo, meter=meter), meter

    def _plan(self, intent: MusicalIntent, duration, orchestration, overrides: dict):
        """Check the arguments and gather what every sampler needs for one intent (prompt, bars, settings)."""
        from types import SimpleNamespace

        if not isinstance(intent, MusicalIntent):
            raise InputError(f"generate needs a MusicalIntent (scoringkit.emotion_to_intent(...)), "
                             f"not {type(intent).__name__}")
        if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration) \
                or not 0 < duration <= 3600:
            raise InputError(f"duration must be a number of seconds in (0, 3600], got {duration!r}")
        if orchestration not in ORCHESTRATIONS:
            from ...errors import choice_error

            raise choice_error("orchestration", orchestration, ORCHESTRATIONS)
        settings = {**SAMPLING, **self.metadata.get("sampling", {})}
        settings.update({name: value for name, value in overrides.items() if value is not None})
        _check_sampling(settings["temperature"], settings["top_k"], settings["top_p"], settings["guidance"])
        from ..rules import bars_for_duration

        prompt, meter = self.prompt_for(intent)
        n_bars = bars_for_duration(float(duration), intent.tempo, meter[0] * 4.0 / meter[1])
        tok = self.tokenizer
        none_prompt = list(prompt)
        none_prompt[1] = tok.condition_id(None)
        guided = float(settings["guidance"]) != 1.0
        context = self.model.config.context

        def rewindow(tokens):
            body = tokens[_HEADER:]
            keep = context // 2
            bar_at = [i for i, t in enumerate(body) if t == tok.bar_id]
            late = [i for i in bar_at if i >= len(body) - keep] or bar_at[-1:]
            tail = body[late[0]:]
            if len(tail) + _HEADER >= context:  # one huge bar: keep its end only
                tail = tail[-(context // 2):]
            return prompt + tail, (none_prompt + tail if guided else None)

        penalty = float(settings["scale_penalty"])
        sampling = dict(temperature=settings["temperature"], top_k=int(settings["top_k"]), top_p=settings["top_p"],
                        guidance=settings["guidance"], unconditional_prompt=none_prompt if guided else None,
                        rewindow=rewindow, logit_bias=scale_bias(tok, intent, penalty) if penalty else None)
        # a bar rarely holds more than ~150 tokens; the cap only stops a runaway sampler
        max_new = n_bars * 64 * max(4, tok.resolution) + 16
        return SimpleNamespace(prompt=prompt, meter=meter, n_bars=n_bars, sampling=sampling, max_new=max_new)

    def _bar_stop(self, n_bars: int):
        """``stop(token)`` for the sampler: True at the ``Bar`` that would open bar ``n_bars + 1``."""
        bar_id, bars = self.tokenizer.bar_id, {"n": 0}

        def stop(token):
            if token == bar_id:
                if bars["n"] >= n_bars:
                    return True
                bars["n"] += 1
            return False

        return stop

    def generate(self, intent: MusicalIntent, *, duration: float = 20.0, seed: int = 0, temperature=None,
                 top_k=None, top_p=None, guidance=None, scale_penalty=None, orchestration: str = "melody",
                 steer: bool = True, use_cache: bool = True, draws: int = DRAWS, return_tokens: bool = False):
        """Sample a cue for ``intent`` lasting about ``duration`` seconds (whole bars).

        ``draws`` drafts are sampled together (one batch, seeds ``seed * draws + j``) and the
        one whose key estimate agrees best with the intent's mode is written
        (:func:`pick_by_mode`): a major intent gets the most major-sounding draft, a minor one
        the most minor. The music-emotion model is not consulted (that is reranking,
        ``compose(..., candidates=N)``). ``draws=1`` is plain sampling of one sequence.

        Parameters
        ----------
        intent : MusicalIntent
        duration : float
            Seconds at the intent's tempo, > 0.
        seed : int
        temperature, top_k, top_p, guidance
            Sampling settings; default :data:`SAMPLING` (or those stored in the checkpoint).
        scale_penalty : float
            Logit penalty on pitches outside the intent's scale (:func:`scale_bias`);
            default :data:`SAMPLING`; 0 = the model's own choice of notes.
        orchestration : {"melody", "piano"}
            See the module docstring.
        steer : bool
            Set the loudness and octave from the intent (:func:`steer_to_intent`); False
            keeps the model's own.
        use_cache : bool
            KV-cache sampling (default); False recomputes every prefix (slow, same result).
        draws : int
            Drafts to choose from by mode, 1-64 (default :data:`DRAWS`).
        return_tokens : bool
            Also return the sampled token ids (of the draft written).

        Returns
        -------
        Score, or (Score, list of int)

        See Also
        --------
        generate_batch : several seeds at once (cheaper per cue).
        beam_search : a search that also weighs the music-emotion model's agreement.
        """
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise InputError(f"seed must be an integer, got {seed!r}")
        check_draws(draws)
        plan = self._plan(intent, duration, orchestration, dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                                                 guidance=guidance, scale_penalty=scale_penalty))
        seeds = [int(seed) * draws + j for j in range(draws)] if draws > 1 else [int(seed)]
        if use_cache and draws > 1:
            rows = sample_batch(self.model, plan.prompt, seeds=seeds, max_new_tokens=plan.max_new,
                                grammars=[RemiGrammar(self.tokenizer) for _ in seeds],
                                stops=[self._bar_stop(plan.n_bars) for _ in seeds], **plan.sampling)
        else:
            rows = [sample_tokens(self.model, plan.prompt, max_new_tokens=plan.max_new, seed=s, use_cache=use_cache,
                                  grammar=RemiGrammar(self.tokenizer), stop=self._bar_stop(plan.n_bars),
                                  **plan.sampling) for s in seeds]
        drafts = [self.to_score(ids, intent, n_bars=plan.n_bars, meter=plan.meter, orchestration=orchestration,
                                steer=steer) for ids in rows]
        best = pick_by_mode(drafts, intent.mode) if draws > 1 else 0
        return (drafts[best], rows[best]) if return_tokens else drafts[best]

    def generate_batch(self, intent: MusicalIntent, *, seeds, duration: float = 20.0, batch_size: int = 8,
                       temperature=None, top_k=None, top_p=None, guidance=None, scale_penalty=None,
                       orchestration: str = "melody", steer: bool = True, draws: int = DRAWS,
                       return_tokens: bool = False) -> list:
        """One cue per seed, its drafts sampled ``batch_size`` sequences at a time (:func:`sample_batch`).

        The cue of each seed is the one :meth:`generate` gives with that seed and ``draws``
        (up to float rounding of the batched products, which can tip a draw), at a fraction of the cost:
        on 2 CPU cores a batch of 8 sequences costs about as much per step as 2-3 single ones.
        This is how ``compose(..., generator="transformer", candidates=N)`` draws its N candidates.

        Parameters
        ----------
        intent : MusicalIntent
        seeds : sequence of int
            One cue per seed, in this order.
        duration, temperature, top_k, top_p, guidance, scale_penalty, orchestration, steer, draws
            As in :meth:`generate`.
        batch_size : int
            Sequences per batch (1-64; memory grows with it: about 8 MB of keys and values per sequence).
        return_tokens : bool
            Return ``(Score, tokens)`` pairs.

        Returns
        -------
        list of Score (or of (Score, list of int))

        Examples
        --------
        >>> import scoringkit as sk
        >>> gen = load_generator()
        >>> cues = gen.generate_batch(sk.emotion_to_intent(sk.Emotion(-0.6, 0.6)), seeds=[0, 1], duration=4)
        >>> len(cues), cues[0].tempo == cues[1].tempo
        (2, True)
        """
        seeds = _check_seeds(seeds)
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or not 1 <= batch_size <= 64:
            raise InputError(f"batch_size must be an integer from 1 to 64, got {batch_size!r}")
        check_draws(draws)
        plan = self._plan(intent, duration, orchestration, dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                                                 guidance=guidance, scale_penalty=scale_penalty))
        row_seeds = [s * draws + j for s in seeds for j in range(draws)] if draws > 1 else seeds
        rows = []
        for first in range(0, len(row_seeds), int(batch_size)):
            chunk = row_seeds[first:first + int(batch_size)]
            rows += sample_batch(self.model, plan.prompt, seeds=chunk, max_new_tokens=plan.max_new,
                                 grammars=[RemiGrammar(self.tokenizer) for _ in chunk],
                                 stops=[self._bar_stop(plan.n_bars) for _ in chunk], **plan.sampling)
        out = []
        for first in range(0, len(rows), draws):
            drafts = [self.to_score(ids, intent, n_bars=plan.n_bars, meter=plan.meter, orchestration=orchestration,
                                    steer=steer) for ids in rows[first:first + draws]]
            best = pick_by_mode(drafts, intent.mode) if draws > 1 else 0
            out.append((drafts[best], rows[first + best]) if return_tokens else drafts[best])
        return out

    def beam_search(self, intent: MusicalIntent, *, duration: float = 20.0, seed: int = 0, beams: int = 4,
                    branch: int = 2, lm_weight: float = 0.5, every: int = 64, temperature=None, top_k=None,
                    top_p=None, guidance=None, scale_penalty=None, orchestration: str = "melody", steer: bool = True,
                    emotion_model=None, return_details: bool = False):
        r"""Stochastic bi-objective beam search: likely music that the emotion model hears in the intended quadrant.

        Plain sampling asks the language model alone; reranking (``candidates=N``) judges
        whole cues after the fact. This search steers *while* decoding, as the Stochastic
        Bi-objective Beam Search of Bardo Composer does (Ferreira, Lelis & Whitehead 2020): it
        keeps ``beams`` partial sequences; every ``every`` tokens each beam is extended by
        ``branch`` sampled continuations (the same sampler as :meth:`generate`: grammar,
        scale mask, top-p), and of all partial and finished sequences the ``beams`` with the
        highest objective survive

        .. math::

            J(x_{1:t}) = \lambda \, \frac{1}{t} \sum_{i=1}^{t} \log p_\theta(x_i \mid x_{<i}, c)
                         + (1 - \lambda) \, \log P_\phi\big(q^\ast \mid \mathrm{decode}(x_{1:t})\big)

        where :math:`p_\theta` is the Transformer's next-token distribution given the header
        :math:`c` (its own, before temperature, top-p, grammar and scale mask), the mean runs
        over the music tokens sampled so far, :math:`q^\ast` is the intended quadrant
        (:func:`intent_quadrant`) and :math:`P_\phi` is scoringkit's symbolic music-emotion
        model (:func:`scoringkit.fuse.emotion_model.quadrant_probabilities`) on the partial
        cue decoded exactly as the final one will be (tempo, key, loudness, instruments). The
        search ends when the best ``beams`` are all finished (``duration`` worth of bars); the
        best finished sequence is returned. ``lm_weight`` :math:`\lambda = 1` is a pure
        likelihood search (the emotion model is never called); :math:`\lambda = 0` follows
        the emotion model alone. The mean log-likelihood is about −1 to −3 nats and
        :math:`\log P_\phi` ranges over (−∞, 0], so :math:`\lambda = 0.5` lets a partial cue
        trade about one nat of likelihood per token for a factor e of quadrant probability.

        The emotion conditioning of Ferreira & Whitehead (2019, "Learning to Generate Music
        with Sentiment", ISMIR) steered an LSTM's neurons toward a sentiment; Bardo Composer
        (Ferreira, Lelis & Whitehead 2020, "Computer-Generated Music for Tabletop Role-Playing
        Games", AIIDE) introduced the bi-objective beam search with a classifier, which this
        method adapts to scoringkit's model, tokens and emotion model.

        Parameters
        ----------
        intent : MusicalIntent
        duration : float
            Seconds at the intent's tempo, > 0 (whole bars).
        seed : int
            Same inputs and seed → same result.
        beams : int
            Sequences kept after each decision (1-64).
        branch : int
            Sampled continuations per beam (1-64); ``beams * branch`` sequences are decoded in
            one batch.
        lm_weight : float
            :math:`\lambda` in [0, 1].
        every : int
            Tokens between decisions (8-4096; a bar of EMOPIA piano holds about 40-150).
        temperature, top_k, top_p, guidance, scale_penalty, orchestration, steer
            As in :meth:`generate`.
        emotion_model : MusicEmotionModel or path, optional
            Judge to use instead of the shipped symbolic model.
        return_details : bool
            Also return a dict with the winner's ``tokens``, ``lm_loglik`` (mean nats per
            token), ``quadrant_logprob``, ``objective``, and ``finished``: every finished
            sequence's ``(objective, lm_loglik, quadrant_logprob)``.

        Returns
        -------
        Score, or (Score, dict)

        Raises
        ------
        InputError
            ``beams``, ``branch`` or ``every`` out of range, ``lm_weight`` outside [0, 1].

        Examples
        --------
        >>> import scoringkit as sk
        >>> gen = load_generator()
        >>> intent = sk.emotion_to_intent(sk.Emotion(-0.6, -0.5))
        >>> cue, info = gen.beam_search(intent, duration=6, beams=2, branch=2, return_details=True)
        >>> cue.tempo == intent.tempo, info["objective"] == max(f[0] for f in info["finished"])
        (True, True)
        """
        import copy

        import numpy as np

        for name, value, low, high in (("beams", beams, 1, 64), ("branch", branch, 1, 64), ("every", every, 8, 4096)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
                raise InputError(f"{name} must be an integer from {low} to {high}, got {value!r}")
        if isinstance(lm_weight, bool) or not isinstance(lm_weight, numbers.Real) or not 0 <= float(lm_weight) <= 1:
            raise InputError(f"lm_weight (λ) must be a number in [0, 1], got {lm_weight!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise InputError(f"seed must be an integer, got {seed!r}")
        plan = self._plan(intent, duration, orchestration, dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                                                 guidance=guidance, scale_penalty=scale_penalty))
        lam, tok, quadrant = float(lm_weight), self.tokenizer, intent_quadrant(intent)
        s = plan.sampling
        guided = s["unconditional_prompt"] is not None
        logit_bias = _prepare(self.model, s["temperature"], s["top_k"], s["top_p"], s["guidance"], s["logit_bias"], 1)

        def quadrant_logprob(ids, bars):
            if lam == 1.0:
                return 0.0
            from ...fuse.emotion_model import quadrant_probabilities

            score = self.to_score(ids, intent, n_bars=max(1, bars), meter=plan.meter, orchestration=orchestration,
                                  steer=steer)
            if not any(t.notes for t in score.tracks):
                return math.log(0.25)
            try:
                p = quadrant_probabilities(score, model=emotion_model)
            except InputError:
                return math.log(0.25)
            return math.log(max(float(p[quadrant - 1]), 1e-9))

        class Hyp:
            __slots__ = ("tokens", "grammar", "bars", "loglik", "count", "objective", "logq")

            def __init__(self, tokens, grammar, bars=0, loglik=0.0, count=0):
                self.tokens, self.grammar, self.bars, self.loglik, self.count = tokens, grammar, bars, loglik, count
                self.objective = self.logq = None

            def child(self):
                return Hyp(list(self.tokens), copy.copy(self.grammar), self.bars, self.loglik, self.count)

            def judge(self):
                self.logq = quadrant_logprob(self.tokens, self.bars)
                mean = self.loglik / max(1, self.count)
                self.objective = lam * mean + (1 - lam) * self.logq
                return self.objective

        width = int(beams) * int(branch)
        pool = [_rng(seed, 1 + j) for j in range(width)]
        picker = _Picker(temperature=s["temperature"], top_k=s["top_k"], top_p=s["top_p"], guidance=s["guidance"],
                         logit_bias=logit_bias, vocab_size=self.model.config.vocab_size)
        grammar = RemiGrammar(tok)
        grammar.feed(plan.prompt)
        active = [Hyp(list(plan.prompt), copy.copy(grammar)) for _ in range(width)]
        gens = list(pool)
        finished = []
        model = self.model
        context = model.config.context
        with _Threads(model, 1), torch.inference_mode():
            decoder = _Decoder(model, width * (2 if guided else 1))
            windows = [list(plan.prompt)] * width + ([list(s["unconditional_prompt"])] * width if guided else [])
            logits = decoder.load(list(range(len(windows))), windows)
            since = 0
            for step in range(plan.max_new):
                n_active = len(active)
                raw = picker.raw(logits, n_active)
                cond = raw if not guided else logits[:n_active].detach().float().cpu().numpy().astype(np.float64)
                drawn = [picker.pick(raw[i], hyp.grammar, gens[i]) for i, hyp in enumerate(active)]
                logp = [picker.log_prob(cond[i], t) for i, t in enumerate(drawn)]
                keep, full = [], []
                for i, (hyp, token) in enumerate(zip(active, drawn)):
                    if token == tok.bar_id and hyp.bars >= plan.n_bars:  # the piece is complete
                        finished.append(hyp)
                        hyp.judge()
                        continue
                    if token == tok.bar_id:
                        hyp.bars += 1
                    hyp.tokens.append(token)
                    hyp.grammar.feed(token)
                    hyp.loglik += logp[i]
                    hyp.count += 1
                    if decoder.width(i) >= context:
                        full.append(len(keep))
                    keep.append(i)
                since += 1
                last = step + 1 == plan.max_new
                if len(keep) < n_active:
                    if keep:
                        decoder.reorder(keep + ([n_active + i for i in keep] if guided else []))
                    active, drawn, gens = [active[i] for i in keep], [drawn[i] for i in keep], [gens[i] for i in keep]
                    n_active = len(active)
                if not active or last:
                    break
                logits = decoder.step(drawn + (drawn if guided else []))
                if full:
                    rows, wins = [], []
                    for i in full:
                        cond, none = s["rewindow"](active[i].tokens)
                        rows.append(i)
                        wins.append(list(cond))
                        if guided:
                            rows.append(n_active + i)
                            wins.append(list(none))
                    logits[rows] = decoder.load(rows, wins)
                if since >= int(every):  # decision: keep the best `beams` of the partial and finished ones
                    since = 0
                    for hyp in active:
                        hyp.judge()
                    ranked = sorted(range(len(active) + len(finished)), key=lambda j: -(
                        active[j].objective if j < len(active) else finished[j - len(active)].objective))
                    best = ranked[:int(beams)]
                    parents = [j for j in best if j < len(active)]
                    if not parents:
                        break
                    order = [j for j in parents for _ in range(int(branch))]
                    decoder.reorder(order + ([n_active + j for j in order] if guided else []))
                    logits = logits[order + ([n_active + j for j in order] if guided else [])]
                    # the first child of a parent goes on as the parent itself, the others as copies
                    active = [active[j] if k % int(branch) == 0 else active[j].child() for k, j in enumerate(order)]
                    gens = pool[:len(active)]
        if finished:
            winner = max(finished, key=lambda h: h.objective)
        else:  # every sequence ran into the token cap: take the best partial one
            for hyp in active:
                hyp.judge()
            winner = max(active, key=lambda h: h.objective)
        cue = self.to_score(winner.tokens, intent, n_bars=plan.n_bars, meter=plan.meter, orchestration=orchestration,
                            steer=steer)
        if not return_details:
            return cue
        details = {"tokens": list(winner.tokens), "lm_loglik": winner.loglik / max(1, winner.count),
                   "quadrant_logprob": winner.logq, "objective": winner.objective,
                   "finished": [(h.objective, h.loglik / max(1, h.count), h.logq) for h in finished]}
        return cue, details

    def to_score(self, ids, intent: MusicalIntent, *, n_bars: int, meter=(4, 4), orchestration: str = "melody",
                 steer: bool = True):
        """Decode sampled ids, cut at ``n_bars`` bars, play at the intent's tempo and key, steer, orchestrate."""
        decoded = self.tokenizer.decode(ids)
        end = n_bars * meter[0] * 4.0 / meter[1]
        notes = []
        for track, note in decoded.notes():
            if track.is_drum or note.start >= end - 1e-9:
                continue
            notes.append(Note(note.pitch, note.start, min(note.duration, end - note.start), note.velocity))
        notes.sort(key=lambda n: (n.start, n.pitch))
        if steer:
            notes = steer_to_intent(notes, intent)
        melody_program = int(intent.instruments.get("melody", 0))
        if orchestration == "melody" and melody_program >= 8 and notes:
            melody, rest = _skyline(notes)
            tracks = [Track("melody", melody_program, melody), Track("piano", 0, rest)]
        else:
            tracks = [Track("piano", 0, notes)]
        return Score([t for t in tracks if t.notes] or tracks[:1], tempo=intent.tempo, key=intent.key, meter=meter)


# -- loading the shipped model -------------------------------------------------------------------
def default_checkpoint() -> Path:
    """Path of the shipped checkpoint, ``scoringkit/assets/models/transformer_emopia.safetensors``."""
    from importlib.resources import files

    return Path(str(files("scoringkit.assets") / "models" / DEFAULT_CHECKPOINT))


_LOADED: dict = {}
_LOCK = threading.Lock()


def load_generator(checkpoint=None, *, device: str = "cpu") -> TransformerGenerator:
    """Load a checkpoint written by :mod:`~scoringkit.generate.models.train` (cached per path and file time).

    Parameters
    ----------
    checkpoint : str or Path, optional
        Default: the shipped :func:`default_checkpoint`.
    device : str
        Where to run the model (``"cpu"`` or ``"cuda"``).

    Raises
    ------
    ModelError
        The file is missing (the message says how to train it), damaged, or written for
        another model, tokenizer or version.
    """
    from .checkpoint import load_checkpoint

    path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
    if not path.is_file():
        if checkpoint is None:
            raise ModelError(
                f"the transformer checkpoint is not installed ({str(path)!r} is missing); train it with "
                "`scoringkit train transformer --out my_transformer.safetensors` (or `python -m "
                "scoringkit.generate.models.train`) and pass checkpoint=..., or use generator='rules'")
        raise ModelError(f"no transformer checkpoint at {str(path)!r}; check the path or train one with "
                         "`scoringkit train transformer --out PATH`")
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(device))
    with _LOCK:
        if key not in _LOADED:
            state, metadata = load_checkpoint(path, kind="transformer")
            tokenizer = RemiTokenizer.from_dict({"format": "scoringkit.remi", "version": 1,
                                                 "config": metadata["tokenizer"]})
            if tokenizer.vocab_hash != metadata.get("vocab_hash"):
                raise ModelError(f"{str(path)!r} was trained with another vocabulary than its stored tokenizer "
                                 "settings give; the file was edited or written by another version")
            config = TransformerConfig.from_dict(metadata["config"])
            if config.vocab_size != tokenizer.vocab_size:
                raise ModelError(f"{str(path)!r}: the model has {config.vocab_size} token ids but the tokenizer "
                                 f"{tokenizer.vocab_size}")
            model = MusicTransformer(config)
            try:
                model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
            except RuntimeError as err:
                raise ModelError(f"the weights in {str(path)!r} do not fit the stored config: {err}") from None
            _LOADED.clear()
            _LOADED[key] = TransformerGenerator(model.to(device).eval(), tokenizer, metadata)
        return _LOADED[key]


def generate(intent: MusicalIntent, duration: float = 20.0, seed: int = 0, *, checkpoint=None, **options) -> Score:
    """Compose a cue with the (shipped) Transformer: ``compose(intent, generator="transformer")``.

    Parameters
    ----------
    intent : MusicalIntent
    duration : float
        Seconds (rounded to whole bars at the intent's tempo).
    seed : int
    checkpoint : str or Path, optional
        Default: the shipped model (:func:`default_checkpoint`).
    **options
        ``temperature``, ``top_k``, ``top_p``, ``guidance``, ``orchestration``,
        ``use_cache``: see :meth:`TransformerGenerator.generate`.

    Raises
    ------
    ModelError
        If the checkpoint is missing or unusable.
    """
    return load_generator(checkpoint).generate(intent, duration=duration, seed=seed, **options)


def generate_batch(intent: MusicalIntent, duration: float = 20.0, seeds=(0,), *, checkpoint=None, **options) -> list:
    """One cue per seed with the (shipped) Transformer, sampled in batches: :meth:`TransformerGenerator.generate_batch`.

    ``compose(intent, generator="transformer", candidates=N)`` draws its candidates with it.
    """
    return load_generator(checkpoint).generate_batch(intent, seeds=seeds, duration=duration, **options)


def beam_search(intent: MusicalIntent, duration: float = 20.0, seed: int = 0, *, checkpoint=None, **options) -> Score:
    """Bi-objective beam search with the (shipped) Transformer: :meth:`TransformerGenerator.beam_search`.

    ``compose(intent, generator="transformer", search="beam", beams=..., lm_weight=...)`` calls it.
    """
    return load_generator(checkpoint).beam_search(intent, duration=duration, seed=seed, **options)
