"""Two moons with the scalar engine: classic micrograd, one Value per number.

A 2-16-16-1 MLP of ``Value`` neurons, SVM max-margin loss with L2, plain gradient descent:
exactly the classic demo notebook. Run: python examples/moons_scalar.py [steps]
"""
import random
import sys

from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.nn import MLP

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
random.seed(1337)
X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
y = y * 2 - 1  # labels -1 / +1
model = MLP(2, [16, 16, 1])
print(f"{len(model.parameters())} parameters")


def loss():
    scores = [model([Value(a), Value(b)]) for a, b in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


for k in range(steps):
    total, acc = loss()
    model.zero_grad()
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    if k % 10 == 0 or k == steps - 1:
        print(f"step {k:3d} loss {total.data:.4f} accuracy {acc:.0%}")
