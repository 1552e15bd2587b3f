"""BERT's uncased WordPiece tokenizer in plain Python (no transformers, no tokenizers).

The encoder backend (:mod:`scoringkit.emotion.encoder`) reads all-MiniLM-L6-v2's
``vocab.txt`` with this and gets the same token ids as the Hugging Face fast tokenizer
that ships with the model (``tokenizer.json``: ``BertNormalizer`` with lower-casing,
``BertPreTokenizer``, ``WordPiece``). Two steps:

1. **Basic tokenisation** (the normaliser and pre-tokeniser):

   * drop NUL, U+FFFD and control / format / private-use characters (Unicode categories
     ``Cc``, ``Cf``, ``Co``), keeping tab, newline and carriage return, which count as
     white space; every white-space character becomes a plain space;
   * put spaces around CJK ideographs, so each one is a word of its own;
   * strip accents (canonical decomposition, NFD, then drop non-spacing marks ``Mn``),
     then lower-case character by character (so a final capital sigma becomes ``σ``,
     not ``ς``, as in the Rust tokenizer);
   * split on white space, and split every punctuation character (ASCII symbols such as
     ``$ + < = > ^ ` | ~`` count too, and any Unicode ``P*`` character) into a word of
     its own.

2. **WordPiece**: each word becomes the longest vocabulary entry that starts it, then the
   longest ``##``-prefixed entry that continues it, and so on. A word that cannot be
   covered this way, or that is longer than 100 characters, becomes ``[UNK]`` as a whole.

Reference: Devlin et al., "BERT", NAACL 2019, and Google's ``tokenization.py``; the
Hugging Face Rust ``tokenizers`` crate (``BertNormalizer``, ``BertPreTokenizer``).
``tests/test_emotion_encoder.py`` checks the ids against transformers' tokenizer.

Examples
--------
>>> from scoringkit.emotion.wordpiece import basic_tokenize
>>> basic_tokenize("Héllo,  WORLD! 東京")
['hello', ',', 'world', '!', '東', '京']
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

__all__ = ["WordPieceTokenizer", "basic_tokenize"]

_KEEP = "\t\n\r"  # control characters that count as white space


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True  # all non-letter, non-digit ASCII symbols, as BERT does
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    """CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which are split like other scripts).

    The ranges are BERT's, including its ``0x2B920`` where Extension E starts at ``0x2B820``:
    the published tokenizers have that slip, and the model was trained with it.
    """
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _clean_char(char: str) -> str:
    """What the normaliser makes of one character (before accent stripping): itself, ``' '``, ``''`` or ``' c '``."""
    cp = ord(char)
    if char in _KEEP:
        return " "
    if cp == 0 or cp == 0xFFFD or unicodedata.category(char) in ("Cc", "Cf", "Co"):
        return ""
    if char.isspace():
        return " "
    if _is_cjk(cp):
        return f" {char} "
    return char


def basic_tokenize(text: str) -> list[str]:
    """Clean, strip accents, lower-case and split ``text`` into words and punctuation marks (step 1 above)."""
    if not text.isascii():
        text = "".join(_clean_char(c) for c in text)
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        # per character: str.lower() would turn a word-final capital sigma into a final sigma
        text = "".join(c.lower() for c in text) if "\u03a3" in text else text.lower()
    else:  # the common case, and much faster: only the ASCII controls and white space need care
        if not text.isprintable():
            text = "".join(_clean_char(c) for c in text)
        text = text.lower()
    words = []
    for chunk in text.split():
        if chunk.isalnum():
            words.append(chunk)
            continue
        start = 0
        for i, char in enumerate(chunk):
            if _is_punctuation(char):
                if start < i:
                    words.append(chunk[start:i])
                words.append(char)
                start = i + 1
        if start < len(chunk):
            words.append(chunk[start:])
    return words


class WordPieceTokenizer:
    """Token ids for BERT-family uncased models from a ``vocab.txt`` (one token a line, id = line number).

    Parameters
    ----------
    vocab_file : str or Path
        The model's vocabulary, e.g. ``vocab.txt`` of all-MiniLM-L6-v2.
    max_chars_per_word : int
        Longer words become ``[UNK]`` (100, as in BERT).

    Examples
    --------
    >>> from scoringkit.emotion.encoder import base_model_path
    >>> tokenizer = WordPieceTokenizer(Path(base_model_path()) / "vocab.txt")
    >>> tokenizer.tokenize("The unbelievable storm!")
    ['the', 'unbelievable', 'storm', '!']
    >>> tokenizer.tokenize("Grimwald's fjords")
    ['grim', '##wald', "'", 's', 'fjord', '##s']
    >>> tokenizer.encode("Storm") == [tokenizer.vocab["storm"]]
    True
    """

    def __init__(self, vocab_file, *, max_chars_per_word: int = 100):
        lines = Path(vocab_file).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.vocab = {}
        for index, token in enumerate(lines):
            self.vocab.setdefault(token.rstrip("\r"), index)
        self.max_chars_per_word = max_chars_per_word
        self.unk_token_id = self.vocab["[UNK]"]
        self.cls_token_id = self.vocab["[CLS]"]
        self.sep_token_id = self.vocab["[SEP]"]
        self.pad_token_id = self.vocab["[PAD]"]
        self._tokens = {index: token for token, index in self.vocab.items()}
        self._cache: dict[str, tuple[int, ...]] = {}

    def word_ids(self, word: str) -> tuple[int, ...]:
        """WordPiece ids of one word from :func:`basic_tokenize` (greedy longest match, step 2 above)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        vocab = self.vocab
        if word in vocab:
            ids = (vocab[word],)
        elif len(word) > self.max_chars_per_word:
            ids = (self.unk_token_id,)
        else:
            pieces, start, n = [], 0, len(word)
            while start < n:
                end = n
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        pieces.append(vocab[piece])
                        break
                    end -= 1
                else:
                    pieces = [self.unk_token_id]
                    break
                start = end
            ids = tuple(pieces)
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``[CLS]`` / ``[SEP]``."""
        ids: list[int] = []
        for word in basic_tokenize(text):
            ids.extend(self.word_ids(word))
        return ids

    def tokenize(self, text: str) -> list[str]:
        """The word pieces of ``text`` as strings (for reading; the model uses :meth:`encode`)."""
        return [self._tokens[i] for i in self.encode(text)]
