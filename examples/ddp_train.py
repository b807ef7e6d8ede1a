"""Data-parallel training over MPI with DistributedDataParallel (the PyTorch way).

    mpiexec -n 2 python examples/ddp_train.py [epochs]              # 2 processes here
    mpiexec -f hosts -n 8 python examples/ddp_train.py [epochs]     # 8 over the hosts' machines
    python examples/ddp_train.py [epochs]                           # one process, no MPI

Every process builds the same MLP and reads its own share of each batch (DistributedSampler);
DistributedDataParallel starts all replicas from rank 0's weights and averages the gradients
during backward, so one optimizer step keeps them equal. Rank 0 alone prints. Needs mpi4py and
an MPI library under mpiexec: pip install mpi4py mpich (docs/scaling.md).
"""
import sys

import micrograd as mg
import micrograd.distributed as dist
from micrograd import nn, optim
from micrograd.data import DataLoader, TensorDataset, load_digits, train_test_split
from micrograd.data.distributed import DistributedSampler
from micrograd.nn.parallel import DistributedDataParallel

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
if dist.is_mpi_launched():  # started by mpiexec with several processes
    dist.init_process_group("mpi")
rank = dist.get_rank() if dist.is_initialized() else 0
world = dist.get_world_size() if dist.is_initialized() else 1

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")  # pixels 0..16 -> [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)
train_set = TensorDataset(X_train, y_train)
sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, seed=42)
loader = DataLoader(train_set, batch_size=32, sampler=sampler)  # 32 per process

mg.manual_seed(42)
model = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(),
                      nn.Linear(50, 10))
net = DistributedDataParallel(model) if world > 1 else model
optimizer = optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()
if rank == 0:
    print(f"{world} process(es), {len(loader)} steps per epoch of {32 * world} images")

for epoch in range(epochs):
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(net(xb), yb)
        optimizer.zero_grad()
        loss.backward()  # the gradients arrive averaged over the processes
        optimizer.step()
        total += loss.item() * len(xb)
    if rank == 0 and (epoch % 5 == 0 or epoch == epochs - 1):
        print(f"epoch {epoch:2d} loss on rank 0's share {total / len(sampler):.4f}")

if rank == 0:  # every replica holds the same weights
    model.eval()
    with mg.no_grad():
        accuracy = (model(mg.tensor(X_test)).argmax(1).numpy() == y_test).mean()
    print(f"test accuracy {accuracy:.4f}")
