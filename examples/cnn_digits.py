"""A convolutional network in the shape of PyTorch's MNIST example, on images that ship offline.

conv-relu-conv-relu-maxpool-dropout-linear-relu-dropout-linear, log_softmax + nll_loss,
Adadelta and StepLR, as in pytorch/examples' mnist/main.py. By default it trains on the 1797
8x8 UCI digits that ship with micrograd (the convolutions pad by 1 to keep the small images'
size); ``--fashion DIR`` trains on 28x28 Fashion-MNIST read from its IDX files in DIR (Debian's
``dataset-fashion-mnist`` package installs them in /usr/share/datasets/fashion-mnist), with the
example's exact layers (unpadded 3x3 convolutions, 9216 features into the first linear layer).

Run: python examples/cnn_digits.py [epochs] [--fashion [DIR]] [--limit N]
"""
import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn, optim
from micrograd.data import DataLoader, TensorDataset, load_digits, train_test_split

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


class Net(nn.Module):
    """PyTorch's MNIST example network for square images of ``side`` pixels; ``padding`` keeps
    the size through the two convolutions (for 8x8 digits, where unpadded ones leave 2x2)."""

    def __init__(self, side: int, padding: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1, padding)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, padding)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        pooled = (side - 4 + 4 * padding) // 2
        self.fc1 = nn.Linear(64 * pooled * pooled, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(mg.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a NumPy array: the big-endian header gives the rank and
    the sizes, then the bytes."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_fashion(directory: Path):
    """(x_train, y_train, x_test, y_test), images as float32 (N, 1, 28, 28) in [0, 1]."""
    parts = []
    for split in ("train", "t10k"):
        images = directory / f"{split}-images-idx3-ubyte.gz"
        labels = directory / f"{split}-labels-idx1-ubyte.gz"
        for p in (images, labels):
            if not p.exists() and not p.with_suffix("").exists():
                sys.exit(f"Fashion-MNIST not found: {p} is missing. Install Debian's "
                         f"dataset-fashion-mnist package (files in {FASHION_DIR}) or pass the "
                         f"directory holding the four IDX files to --fashion.")
        images = images if images.exists() else images.with_suffix("")
        labels = labels if labels.exists() else labels.with_suffix("")
        parts += [(read_idx(images)[:, None] / np.float32(255)).astype(np.float32),
                  read_idx(labels).astype(np.int64)]
    return parts


def load_small_digits():
    """The shipped 8x8 digits, pixels scaled to [0, 1], 75% / 25% split."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
    return x_train, y_train, x_test, y_test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("epochs", nargs="?", type=int, default=8)
    parser.add_argument("--fashion", nargs="?", const=str(FASHION_DIR), default=None,
                        metavar="DIR", help="train on Fashion-MNIST read from DIR")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N training images only")
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    args = parser.parse_args(argv)

    mg.manual_seed(1)
    if args.fashion is not None:
        x_train, y_train, x_test, y_test = load_fashion(Path(args.fashion))
        name, model = "Fashion-MNIST", Net(28, padding=0)
    else:
        x_train, y_train, x_test, y_test = load_small_digits()
        name, model = "8x8 digits", Net(8, padding=1)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"{name}: {len(x_train)} training and {len(x_test)} test images of "
          f"{x_train.shape[2]}x{x_train.shape[3]}")

    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                              seed=1)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for data, target in train_loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(data)
        scheduler.step()
        print(f"epoch {epoch:2d} loss {total / len(x_train):.4f}")

    model.eval()
    correct = 0
    with mg.no_grad():
        for start in range(0, len(x_test), 1000):
            batch = mg.tensor(x_test[start:start + 1000])
            pred = model(batch).argmax(dim=1).numpy()
            correct += int((pred == y_test[start:start + 1000]).sum())
    print(f"test accuracy {correct / len(x_test):.4f}")


if __name__ == "__main__":
    main()
