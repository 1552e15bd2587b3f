"""A sequence model for EMOPIA's four quadrants, the kind the EMOPIA paper's best classifier was.

A bidirectional LSTM over the clip's REMI tokens (``scoringkit``'s tokenizer, without the
quadrant token and BOS/EOS), pooled by 4-hop self-attention, then a small MLP: trained from
scratch on the train split (random 512-token crops, random transposition by -3..+3 semitones,
AdamW 1e-3, batch 16, dropout 0.3), the val split choosing the epoch, predictions averaged over a
clip's 512-token windows (half overlapping). The test split's figure of the chosen epoch is the
one to compare with the shipped logistic model's 63.6 %.

Run: ``.venv/bin/python benchmarks/symbolic_sequence_model.py [--epochs 20] [--seed 0]`` (needs
``../shared/data/emopia``; about 100 s per epoch on 2 CPU cores; a GPU is used when present).
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CROP = 512


def build_model(vocab_size, embedding=128, hidden=128, hops=4):
    import torch
    from torch import nn

    class AttentiveLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, embedding, padding_idx=0)
            self.lstm = nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
            self.att1 = nn.Linear(2 * hidden, 64)
            self.att2 = nn.Linear(64, hops)
            self.drop = nn.Dropout(0.3)
            self.out = nn.Sequential(nn.Linear(2 * hidden * hops, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 4))

        def forward(self, x, lengths):
            e = self.drop(self.emb(x))
            packed = nn.utils.rnn.pack_padded_sequence(e, lengths.cpu(), batch_first=True, enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
            weights = self.att2(torch.tanh(self.att1(h)))  # batch, time, hops
            mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
            weights = weights.masked_fill(~mask[:, :, None], -1e9).softmax(1)
            pooled = torch.einsum("bth,btd->bhd", weights, h).flatten(1)
            return self.out(self.drop(pooled))

    return AttentiveLSTM()


def batchify(items, device):
    import torch

    lengths = torch.tensor([len(s) for s, _ in items])
    x = torch.zeros(len(items), int(lengths.max()), dtype=torch.long)
    for k, (s, _) in enumerate(items):
        x[k, : len(s)] = s
    return x.to(device), lengths, torch.tensor([y for _, y in items], device=device)


def windows(seq):
    if len(seq) <= CROP:
        return [seq]
    starts = list(range(0, len(seq) - CROP + 1, CROP // 2))
    if starts[-1] != len(seq) - CROP:
        starts.append(len(seq) - CROP)
    return [seq[s: s + CROP] for s in starts]


def predict(model, items, device):
    import numpy as np
    import torch

    model.eval()
    probabilities = []
    with torch.no_grad():
        for seq, _ in items:
            x, lengths, _ = batchify([(s, 0) for s in windows(seq)], device)
            probabilities.append(model(x, lengths).softmax(-1).mean(0).cpu().numpy())
    return np.array(probabilities)


def accuracies(probabilities, items):
    """Four-quadrant, arousal-side and valence-side accuracy (quadrants 0..3 here)."""
    import numpy as np

    y = np.array([q for _, q in items])
    pred = probabilities.argmax(1)
    high_arousal = lambda q: np.isin(q, [0, 1])  # noqa: E731
    high_valence = lambda q: np.isin(q, [0, 3])  # noqa: E731
    return (float((pred == y).mean()), float((high_arousal(pred) == high_arousal(y)).mean()),
            float((high_valence(pred) == high_valence(y)).mean()))


def main(argv=None):
    import numpy as np
    import torch
    from torch import nn

    from scoringkit.generate.models.data import load_emopia_tokens
    from scoringkit.generate.models.tokenizer import RemiTokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(2)
    tok = RemiTokenizer()
    corpus = load_emopia_tokens()
    dropped = {tok["BOS"], tok["EOS"]} | {i for i, name in enumerate(tok.vocab) if name.startswith("Q")}
    transpose = {s: torch.as_tensor(np.asarray(tok.transpose_table(s)), dtype=torch.long) for s in range(-3, 4)}
    data = {"train": [], "val": [], "test": []}
    for i in range(len(corpus.names)):
        seq = [t for t in corpus.tokens[corpus.offsets[i]: corpus.offsets[i + 1]].tolist() if t not in dropped]
        data[str(corpus.splits[i])].append((torch.tensor(seq, dtype=torch.long), int(corpus.quadrants[i]) - 1))
    model = build_model(tok.vocab_size).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    best = (-1.0, 0, None)
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        items = data["train"][:]
        random.shuffle(items)
        total = 0.0
        for b in range(0, len(items), 16):
            batch = []
            for seq, y in items[b: b + 16]:
                if len(seq) > CROP:
                    s = random.randrange(0, len(seq) - CROP + 1)
                    seq = seq[s: s + CROP]
                batch.append((transpose[random.randint(-3, 3)][seq], y))
            x, lengths, y = batchify(batch, device)
            loss = nn.functional.cross_entropy(model(x, lengths), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
        val = accuracies(predict(model, data["val"], device), data["val"])
        print(f"epoch {epoch + 1} ({time.time() - started:.0f} s) loss {total / (len(items) / 16):.3f} "
              f"val 4Q {val[0]:.3f} arousal {val[1]:.3f} valence {val[2]:.3f}", flush=True)
        if val[0] > best[0]:
            best = (val[0], epoch + 1, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[2])
    test = accuracies(predict(model, data["test"], device), data["test"])
    print(f"chosen epoch {best[1]} (val 4Q {best[0]:.3f}): test 4Q {test[0]:.3f} arousal {test[1]:.3f} "
          f"valence {test[2]:.3f}")


if __name__ == "__main__":
    main()
