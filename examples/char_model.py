"""A character-level language model of chemical element names, three ways: an embedding
feeding a GRU (or an LSTM), and a small causal Transformer. Each learns to predict the next
letter and then samples new, element-like names.

The data are the names of the 118 elements (IUPAC's English spellings), listed below: facts,
so no licence applies. The model code is PyTorch code: ``build_model(torch, ...)`` takes the
library as an argument and builds the same model in micrograd or in PyTorch
(tests/test_sequence_layers.py trains both from the same initial weights and compares their
losses step by step).

Run: python examples/char_model.py [steps] [gru|lstm|transformer]
"""
from __future__ import annotations

import sys

import numpy as np

import micrograd

ELEMENTS = """hydrogen helium lithium beryllium boron carbon nitrogen oxygen fluorine neon sodium
magnesium aluminium silicon phosphorus sulfur chlorine argon potassium calcium scandium titanium
vanadium chromium manganese iron cobalt nickel copper zinc gallium germanium arsenic selenium
bromine krypton rubidium strontium yttrium zirconium niobium molybdenum technetium ruthenium
rhodium palladium silver cadmium indium tin antimony tellurium iodine xenon caesium barium
lanthanum cerium praseodymium neodymium promethium samarium europium gadolinium terbium
dysprosium holmium erbium thulium ytterbium lutetium hafnium tantalum tungsten rhenium osmium
iridium platinum gold mercury thallium lead bismuth polonium astatine radon francium radium
actinium thorium protactinium uranium neptunium plutonium americium curium berkelium
californium einsteinium fermium mendelevium nobelium lawrencium rutherfordium dubnium seaborgium
bohrium hassium meitnerium darmstadtium roentgenium copernicium nihonium flerovium moscovium
livermorium tennessine oganesson""".split()

END = "."                                   # starts and ends every name
CHARS = END + "abcdefghijklmnopqrstuvwxyz"
VOCAB = len(CHARS)
MAX_LEN = max(len(w) for w in ELEMENTS) + 1  # a name plus its end mark
IGNORE = -100                               # cross_entropy's default ignore_index


def encode(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ".name" and targets "name." as index arrays (B, MAX_LEN); inputs padded with
    the end mark, targets with IGNORE (no loss there)."""
    x = np.zeros((len(words), MAX_LEN), np.int64)
    y = np.full((len(words), MAX_LEN), IGNORE, np.int64)
    for i, w in enumerate(words):
        ids = [CHARS.index(c) for c in w]
        x[i, 1:len(ids) + 1] = ids
        y[i, :len(ids) + 1] = ids + [0]
    return x, y


def build_model(torch, kind: str, embed: int = 16, hidden: int = 32, heads: int = 2,
                layers: int = 1):
    """The model in ``torch`` (micrograd or PyTorch): logits (B, T, VOCAB) for inputs (B, T)."""
    nn = torch.nn

    class RecurrentLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, embed)
            cell = nn.GRU if kind == "gru" else nn.LSTM
            self.rnn = cell(embed, hidden, num_layers=layers, batch_first=True)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, x):
            out, _ = self.rnn(self.embed(x))
            return self.head(out)

    class TransformerLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, embed)
            self.position = nn.Embedding(MAX_LEN, embed)
            layer = nn.TransformerEncoderLayer(embed, heads, 4 * embed, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(embed)
            self.head = nn.Linear(embed, VOCAB)

        def forward(self, x):
            steps = x.shape[1]
            h = self.embed(x) + self.position(torch.arange(steps))
            future = torch.ones(steps, steps, dtype=torch.bool).triu(1)  # True: not visible
            return self.head(self.norm(self.encoder(h, mask=future, is_causal=True)))

    if kind not in ("gru", "lstm", "transformer"):
        raise ValueError(f"kind must be gru, lstm or transformer, got {kind!r}")
    return TransformerLM() if kind == "transformer" else RecurrentLM()


def loss_of(torch, model, x, y):
    logits = model(x)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))


def train(torch, model, x, y, steps: int, lr: float = 1e-2, log_every: int = 0) -> list:
    """Full-batch Adam; returns the loss of every step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        loss = loss_of(torch, model, x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d} loss {losses[-1]:.4f}")
    return losses


def sample(torch, model, count: int, seed: int = 0) -> list[str]:
    """New names, one letter at a time from the model's next-letter distribution."""
    rng = np.random.default_rng(seed)
    model.eval()
    names = []
    with torch.no_grad():
        for _ in range(count):
            ids = [0]
            while len(ids) < MAX_LEN:
                logits = model(torch.tensor([ids]))[0, -1]
                p = torch.softmax(logits, 0).numpy().astype(np.float64)
                nxt = int(rng.choice(VOCAB, p=p / p.sum()))
                if nxt == 0:
                    break
                ids.append(nxt)
            names.append("".join(CHARS[i] for i in ids[1:]))
    model.train()
    return names


def accuracy(torch, model, x, y) -> float:
    """The share of next letters (end marks included) the model ranks first."""
    with torch.no_grad():
        guess = model(x).argmax(-1).numpy()
    counted = y.numpy() != IGNORE
    return float((guess == y.numpy())[counted].mean())


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    kinds = sys.argv[2:] or ["gru", "transformer"]
    torch = micrograd
    x_np, y_np = encode(ELEMENTS)
    x, y = torch.tensor(x_np), torch.tensor(y_np)
    for kind in kinds:
        torch.manual_seed(0)
        model = build_model(torch, kind)
        print(f"--- {kind}: {sum(p.numel() for p in model.parameters())} parameters")
        train(torch, model, x, y, steps, log_every=max(steps // 5, 1))
        print(f"{kind} next-letter accuracy {accuracy(torch, model, x, y):.3f}")
        new = [n for n in sample(torch, model, 40) if n not in ELEMENTS]
        print(f"{kind} samples: {' '.join(new[:12])}")


if __name__ == "__main__":
    main()
