"""Handwritten digits with nn.Sequential, DataLoader and Adam (the PyTorch way).

The 1797 8x8 UCI digits ship with micrograd (mg.data.load_digits), so this runs offline.
Run: python examples/digits_sequential.py [epochs]
"""
import sys

import micrograd as mg
from micrograd import nn, optim
from micrograd.data import DataLoader, TensorDataset, load_digits, train_test_split

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
mg.manual_seed(42)
X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels 0..16 -> [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)

train_loader = DataLoader(TensorDataset(X_train.astype("float32"), y_train), batch_size=64,
                          shuffle=True, seed=42)
model = nn.Sequential(
    nn.Linear(64, 100), nn.ReLU(),
    nn.Linear(100, 50), nn.ReLU(),
    nn.Linear(50, 10),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

for epoch in range(epochs):
    total = 0.0
    for xb, yb in train_loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    scheduler.step()
    if epoch % 5 == 0 or epoch == epochs - 1:
        print(f"epoch {epoch:2d} loss {total / len(X_train):.4f}")

model.eval()
with mg.no_grad():
    predictions = model(mg.tensor(X_test, dtype=mg.float32)).argmax(dim=1).numpy()
print(f"test accuracy {(predictions == y_test).mean():.4f}")

mg.save(model.state_dict(), "digits_model.npz")       # weights only, no pickle
model.load_state_dict(mg.load("digits_model.npz"))
print("saved and reloaded digits_model.npz")
