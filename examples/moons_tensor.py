"""Two moons with tensors: the same problem as moons_scalar.py, the PyTorch way.

The whole batch is one (N, 2) Tensor; nn.Sequential, nn.CrossEntropyLoss and optim.Adam do the
rest. Run: python examples/moons_tensor.py
"""
import micrograd as mg
from micrograd import nn, optim

mg.manual_seed(0)
X, y = mg.data.make_moons(n_samples=200, noise=0.1, random_state=1)
X, y = mg.tensor(X, dtype=mg.float32), mg.tensor(y)

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                      nn.Linear(16, 2))
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.02)
print(model)

for epoch in range(150):
    loss = loss_fn(model(X), y)   # forward pass
    optimizer.zero_grad()
    loss.backward()               # backward pass
    optimizer.step()              # weight update
    if epoch % 30 == 0 or epoch == 149:
        with mg.no_grad():
            accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
        print(f"epoch {epoch:3d} loss {loss.item():.4f} accuracy {accuracy:.0%}")
