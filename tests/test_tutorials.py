"""PyTorch's own beginner tutorials, run as a new user would: the published code with only
``import torch`` replaced by ``import micrograd as torch`` and offline data (NumPy-generated
arrays, micrograd's shipped digits in place of MNIST/FashionMNIST; no downloads).

Each tutorial is one function whose parameter is named ``torch``: the test runs it once with
micrograd and, when installed, once with real torch, and compares the losses. Random draws that
the two libraries cannot make equal (``torch.randn`` initial weights, ``nn.Linear``'s default
init) are drawn once with NumPy and handed to both; every such substitution is commented.
Where a tutorial stops on something micrograd lacks, the test is a strict xfail naming the
missing feature, so it turns into a failure (remove the marker) once the feature lands.

Not repeated here: "Learning PyTorch with Examples"' custom autograd Function
(LegendrePolynomial3) is tests/test_custom_function.py's first test.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

import micrograd


def oracle():
    """Real torch, or skip the comparison (the micrograd half has already run)."""
    return pytest.importorskip("torch", reason="torch is the oracle for the tutorials' numbers")


def numpy_of(t) -> np.ndarray:
    return t.detach().numpy()


# ==== "Learning PyTorch with Examples" (polynomial fits of sin(x)) ============================
STEPS = 300  # the scripts run 2000 steps; 300 show the loss falling and keep the file fast
INIT = [float(v) for v in np.random.default_rng(0).standard_normal(5)]  # for torch.randn(())


def sin_data(torch):
    """The scripts' first lines, as published."""
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    return x, y


def test_learning_pytorch_with_examples_data():
    x, y = sin_data(micrograd)
    real_torch = oracle()
    np.testing.assert_allclose(numpy_of(y), numpy_of(sin_data(real_torch)[1]), atol=1e-6)


def polynomial_tensor(torch, x, y):
    """polynomial_tensor.py: forward and backward by hand, tensors without autograd."""
    dtype, device = torch.float, torch.device("cpu")
    # Randomly initialize weights (torch.randn((), ...) in the script; NumPy's draws here)
    a = torch.tensor(INIT[0], device=device, dtype=dtype)
    b = torch.tensor(INIT[1], device=device, dtype=dtype)
    c = torch.tensor(INIT[2], device=device, dtype=dtype)
    d = torch.tensor(INIT[3], device=device, dtype=dtype)

    losses = []
    learning_rate = 1e-6
    for t in range(STEPS):
        # Forward pass: compute predicted y
        y_pred = a + b * x + c * x ** 2 + d * x ** 3

        # Compute and print loss
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)

        # Backprop to compute gradients of a, b, c, d with respect to loss
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()

        # Update weights using gradient descent
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    result = f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3'
    return losses, [a.item(), b.item(), c.item(), d.item()], result


def polynomial_autograd(torch, x, y):
    """polynomial_autograd.py: autograd computes the gradients, the update is by hand under
    no_grad, in place (``a -= ...``), and ``a.grad = None`` resets them."""
    dtype = torch.float
    # torch.randn((), dtype=dtype, requires_grad=True) in the script; NumPy's draws here
    a = torch.tensor(INIT[0], dtype=dtype, requires_grad=True)
    b = torch.tensor(INIT[1], dtype=dtype, requires_grad=True)
    c = torch.tensor(INIT[2], dtype=dtype, requires_grad=True)
    d = torch.tensor(INIT[3], dtype=dtype, requires_grad=True)

    losses = []
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()

        # Manually update weights using gradient descent. Wrap in torch.no_grad()
        # because weights have requires_grad=True, but we don't need to track this
        # in autograd.
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    result = f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3'
    return losses, [a.item(), b.item(), c.item(), d.item()], result


def polynomial_init(torch, model):
    """The Linear(3, 1)'s default init differs between the libraries: load NumPy's draws."""
    model.load_state_dict({"0.weight": torch.tensor([INIT[1:4]], dtype=torch.float),
                           "0.bias": torch.tensor([INIT[0]], dtype=torch.float)})


def polynomial_nn(torch, x, y):
    """polynomial_nn.py: Sequential(Linear(3, 1), Flatten(0, 1)), MSELoss(reduction='sum'),
    and ``param -= learning_rate * param.grad`` over model.parameters() under no_grad."""
    # For this example, the output y is a linear function of (x, x^2, x^3), so
    # we can consider it as a linear layer neural network. Let's prepare the
    # tensor (x, x^2, x^3).
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    polynomial_init(torch, model)  # not in the script: equal initial weights
    loss_fn = torch.nn.MSELoss(reduction='sum')

    losses = []
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())

        # Zero the gradients before running the backward pass.
        model.zero_grad()
        loss.backward()

        # Update the weights using gradient descent. Each parameter is a Tensor, so
        # we can access its gradients like we did before.
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    linear_layer = model[0]
    result = (f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x '
              f'+ {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    return losses, [linear_layer.bias.item(), *linear_layer.weight[0].tolist()], result


def polynomial_optim(torch, x, y):
    """polynomial_optim.py: the same model trained by torch.optim.RMSprop."""
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    polynomial_init(torch, model)  # not in the script: equal initial weights
    loss_fn = torch.nn.MSELoss(reduction='sum')

    losses = []
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    linear_layer = model[0]
    result = (f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x '
              f'+ {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    return losses, [linear_layer.bias.item(), *linear_layer.weight[0].tolist()], result


def polynomial_module(torch, x, y):
    """polynomial_module.py: a custom nn.Module with four scalar Parameters, trained by SGD."""
    class Polynomial3(torch.nn.Module):
        def __init__(self):
            """
            In the constructor we instantiate four parameters and assign them as
            member parameters.
            """
            super().__init__()
            # torch.nn.Parameter(torch.randn(())) in the script; NumPy's draws here
            self.a = torch.nn.Parameter(torch.tensor(INIT[0]))
            self.b = torch.nn.Parameter(torch.tensor(INIT[1]))
            self.c = torch.nn.Parameter(torch.tensor(INIT[2]))
            self.d = torch.nn.Parameter(torch.tensor(INIT[3]))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 '
                    f'+ {self.d.item()} x^3')

    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for t in range(STEPS):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, [p.item() for p in model.parameters()], f'Result: {model.string()}'


def dynamic_net(torch, x, y):
    """dynamic_net.py: Python control flow picks 4 or 5 terms per forward and reuses ``e``
    (weight sharing); SGD with momentum. ``random`` is seeded equally for both runs."""
    random.seed(0)

    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # torch.nn.Parameter(torch.randn(())) in the script; NumPy's draws here
            self.a = torch.nn.Parameter(torch.tensor(INIT[0]))
            self.b = torch.nn.Parameter(torch.tensor(INIT[1]))
            self.c = torch.nn.Parameter(torch.tensor(INIT[2]))
            self.d = torch.nn.Parameter(torch.tensor(INIT[3]))
            self.e = torch.nn.Parameter(torch.tensor(INIT[4]))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 '
                    f'+ {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?')

    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for t in range(STEPS):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, [p.item() for p in model.parameters()], f'Result: {model.string()}'


# script -> (function, how much its loss must fall over STEPS)
POLYNOMIAL = {
    "polynomial_tensor": (polynomial_tensor, 10),
    "polynomial_autograd": (polynomial_autograd, 10),
    "polynomial_nn": (polynomial_nn, 10),
    "polynomial_optim": (polynomial_optim, 5),
    "polynomial_module": (polynomial_module, 10),
    "dynamic_net": (dynamic_net, 2),
}


@pytest.mark.parametrize("name", sorted(POLYNOMIAL))
def test_learning_pytorch_with_examples(name):
    tutorial, fall = POLYNOMIAL[name]
    losses, params, result = tutorial(micrograd, *sin_data(micrograd))
    assert result.startswith("Result: ")
    assert losses[-1] < losses[0] / fall, losses[::50]  # it learns
    real_torch = oracle()
    their_losses, their_params, _ = tutorial(real_torch, *sin_data(real_torch))
    np.testing.assert_allclose(losses, their_losses, rtol=1e-4)
    np.testing.assert_allclose(params, their_params, rtol=1e-4, atol=1e-6)


# ==== "What is torch.nn really?" (MNIST -> micrograd's 8x8 digits) ==========================
def digits():
    """x_train, y_train, x_valid, y_valid as the tutorial's pickle gives them (float32 pixels in
    [0, 1], int64 labels), from the shipped digits: 1000 to train on, 500 to validate."""
    x, y = micrograd.data.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return x[:1000], y[:1000], x[1000:1500], y[1000:1500]


N_PIXELS = 64  # 784 in the tutorial
W0 = np.random.default_rng(1).standard_normal((N_PIXELS, 10)).astype(np.float32)  # torch.randn
lr, epochs, bs = 0.5, 2, 64  # the tutorial's


def from_scratch(torch):
    """'Neural net from scratch (without torch.nn)' and 'Using torch.nn.functional'."""
    x_train, y_train, x_valid, y_valid = digits()
    x_train, y_train, x_valid, y_valid = map(
        torch.tensor, (x_train, y_train, x_valid, y_valid)
    )
    n, c = x_train.shape
    print(x_train, y_train)
    print(x_train.shape)
    print(y_train.min(), y_train.max())

    weights = torch.tensor(W0) / math.sqrt(N_PIXELS)  # torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    xb = x_train[0:bs]  # a mini-batch from x
    preds = model(xb)  # predictions
    preds[0], preds.shape
    print(preds[0], preds.shape)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]
    print(loss_func(preds, yb))

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    print(accuracy(preds, yb))
    before = (loss_func(preds, yb).item(), accuracy(preds, yb).item())

    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    after = (loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())
    print(*after)

    # Using torch.nn.functional
    F = torch.nn.functional
    loss_func = F.cross_entropy

    def model(xb):
        return xb @ weights + bias

    functional = (loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())
    return before, after, functional


def test_nn_really_from_scratch():
    before, after, functional = from_scratch(micrograd)
    assert after[0] < before[0] / 3 and after[1] > 0.9, (before, after)  # it learns
    assert functional == pytest.approx(after, rel=1e-6)  # F.cross_entropy == log_softmax + nll
    real_torch = oracle()
    theirs = from_scratch(real_torch)
    np.testing.assert_allclose([before, after, functional], theirs, rtol=1e-4)


def nn_really_models(torch):
    """The tutorial's models, in the order it builds them; the classes are as published with
    784 -> 64 and NumPy's initial weights."""
    nn = torch.nn

    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.tensor(W0) / math.sqrt(N_PIXELS))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    class Mnist_Logistic_Linear(nn.Module):  # 'Refactor using nn.Linear'
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(N_PIXELS, 10)
            # not in the tutorial: nn.Linear's default init differs; load NumPy's draws
            self.lin.load_state_dict({"weight": torch.tensor(W0.T / math.sqrt(N_PIXELS)),
                                      "bias": torch.zeros(10)})

        def forward(self, xb):
            return self.lin(xb)

    return Mnist_Logistic, Mnist_Logistic_Linear


def nn_really_refactors(torch):
    """'Refactor using nn.Module / nn.Linear / torch.optim / Dataset / DataLoader': the same
    training, rewritten five times; each returns its final loss on the last batch."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    TensorDataset, DataLoader = torch.utils.data.TensorDataset, torch.utils.data.DataLoader
    x_train, y_train, x_valid, y_valid = map(torch.tensor, digits())
    n, c = x_train.shape
    loss_func = F.cross_entropy
    Mnist_Logistic, Mnist_Logistic_Linear = nn_really_models(torch)
    results = {}

    xb_check, yb_check = x_train[0:bs], y_train[0:bs]  # not in the tutorial: what we compare

    # Refactor using nn.Module
    model = Mnist_Logistic()
    results["initial"] = loss_func(model(xb_check), yb_check).item()

    def fit():
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    fit()
    results["nn.Module"] = loss_func(model(xb_check), yb_check).item()

    # Refactor using nn.Linear
    model = Mnist_Logistic_Linear()
    fit()
    results["nn.Linear"] = loss_func(model(xb_check), yb_check).item()

    # Refactor using torch.optim
    def get_model():
        model = Mnist_Logistic_Linear()
        return model, optim.SGD(model.parameters(), lr=lr)

    model, opt = get_model()
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            opt.step()
            opt.zero_grad()
    results["optim"] = loss_func(model(xb_check), yb_check).item()

    # Refactor using Dataset
    train_ds = TensorDataset(x_train, y_train)
    model, opt = get_model()
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb, yb = train_ds[i * bs: i * bs + bs]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            opt.step()
            opt.zero_grad()
    results["Dataset"] = loss_func(model(xb_check), yb_check).item()

    # Refactor using DataLoader
    train_dl = DataLoader(train_ds, batch_size=bs)
    model, opt = get_model()
    for epoch in range(epochs):
        for xb, yb in train_dl:
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            opt.step()
            opt.zero_grad()
    results["DataLoader"] = loss_func(model(xb_check), yb_check).item()
    return results


def test_nn_really_refactors():
    ours = nn_really_refactors(micrograd)
    trained = [v for k, v in ours.items() if k != "initial"]
    assert max(trained) < ours["initial"] / 2, ours  # every refactor learns
    # the refactors change the code, not the numbers
    np.testing.assert_allclose(trained, trained[0], rtol=1e-5)
    real_torch = oracle()
    theirs = nn_really_refactors(real_torch)
    np.testing.assert_allclose(list(ours.values()), list(theirs.values()), rtol=1e-4)


def nn_really_fit(torch, seed):
    """'Add validation', 'Create fit() and get_data()': shuffled training batches, a validation
    pass under no_grad in eval mode. Returns each epoch's validation loss. The shuffled orders
    are each library's own (docs/pytorch-differences.md: data loading), so only the seeds are
    shared."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    TensorDataset, DataLoader = torch.utils.data.TensorDataset, torch.utils.data.DataLoader
    torch.manual_seed(seed)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, digits())
    loss_func = F.cross_entropy
    _, Mnist_Logistic = nn_really_models(torch)
    train_ds = TensorDataset(x_train, y_train)
    valid_ds = TensorDataset(x_valid, y_valid)

    def get_model():
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    # Add validation
    train_dl = DataLoader(train_ds, batch_size=bs, shuffle=True)
    valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
    model, opt = get_model()
    with torch.no_grad():  # not in the tutorial: the loss before training
        initial = (sum(loss_func(model(xb), yb) for xb, yb in valid_dl) / len(valid_dl)).item()
    validation = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            opt.step()
            opt.zero_grad()

        model.eval()
        with torch.no_grad():
            valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)

        print(epoch, valid_loss / len(valid_dl))
        validation.append((valid_loss / len(valid_dl)).item())

    # Create fit() and get_data()
    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)

        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()

        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)

            model.eval()
            with torch.no_grad():
                losses, nums = zip(
                    *[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl]
                )
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)

            print(epoch, val_loss)
            fitted.append(val_loss)

    def get_data(train_ds, valid_ds, bs):
        return (
            DataLoader(train_ds, batch_size=bs, shuffle=True),
            DataLoader(valid_ds, batch_size=bs * 2),
        )

    fitted = []
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model()
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    return initial, validation, fitted


def test_nn_really_validation_and_fit():
    initial, validation, fitted = nn_really_fit(micrograd, seed=0)
    assert validation[-1] < initial / 2 and fitted[-1] < initial / 2, (initial, validation)
    assert nn_really_fit(micrograd, seed=0) == (initial, validation, fitted)  # seeded: repeats
    real_torch = oracle()
    their_initial, their_validation, their_fitted = nn_really_fit(real_torch, seed=0)
    assert initial == pytest.approx(their_initial, rel=1e-5)
    # other shuffles, same model, data and learning rate: torch's losses within 10%
    np.testing.assert_allclose(validation + fitted, their_validation + their_fitted, rtol=0.1)


def nn_really_cnn(torch):
    """'Switch to CNN', 'Using nn.Sequential', 'Wrapping DataLoader', 'Using your GPU', as
    published with 28x28 -> 8x8 (three stride-2 convolutions: 8 -> 4 -> 2 -> 1, so the
    average pool is over 1x1) and no shuffle."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    TensorDataset, DataLoader = torch.utils.data.TensorDataset, torch.utils.data.DataLoader
    torch.manual_seed(0)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, digits())
    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    loss_func = F.cross_entropy

    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 8, 8)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 1)
            return xb.view(-1, xb.size(1))

    lr = 0.1
    model = Mnist_CNN()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    xb, yb = x_valid[:bs], y_valid[:bs]
    before = loss_func(model(xb), yb).item()
    for xb_, yb_ in DataLoader(train_ds, batch_size=bs):  # fit(epochs, ...), one epoch
        loss = loss_func(model(xb_), yb_)
        loss.backward()
        opt.step()
        opt.zero_grad()
    cnn = loss_func(model(xb), yb).item()

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x, y):
        return x.view(-1, 1, 8, 8), y

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    model.to(dev)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    train_dl = WrappedDataLoader(DataLoader(train_ds, batch_size=bs), preprocess)
    for xb_, yb_ in train_dl:
        loss = loss_func(model(xb_.to(dev)), yb_.to(dev))
        loss.backward()
        opt.step()
        opt.zero_grad()
    sequential = loss_func(model(xb.view(-1, 1, 8, 8)), yb).item()
    return before, cnn, sequential


def test_nn_really_cnn():
    before, cnn, sequential = nn_really_cnn(micrograd)
    assert cnn < before and sequential < before


# ==== "Learn the Basics" ====================================================================
def tensors_tutorial(torch):
    """'Tensors' (tensorqs_tutorial.py), every cell; returns what it prints, as NumPy."""
    out = {}
    # Directly from data
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    # From a NumPy array
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    # From another tensor
    x_ones = torch.ones_like(x_data)  # retains the properties of x_data
    print(f"Ones Tensor: \n {x_ones} \n")
    x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
    print(f"Random Tensor: \n {x_rand} \n")
    out.update(x_data=x_data, x_np=x_np, x_ones=x_ones, x_rand_shape=x_rand.shape,
               x_rand_dtype=str(x_rand.dtype))
    # With random or constant values
    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    print(f"Random Tensor: \n {rand_tensor} \n")
    print(f"Ones Tensor: \n {ones_tensor} \n")
    print(f"Zeros Tensor: \n {zeros_tensor}")
    out.update(rand_shape=rand_tensor.shape, ones_tensor=ones_tensor, zeros_tensor=zeros_tensor)
    # Attributes of a Tensor
    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    out.update(attributes=(tuple(tensor.shape), str(tensor.dtype), str(tensor.device)))
    # We move our tensor to the current accelerator if available
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    # Standard numpy-like indexing and slicing
    tensor = torch.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    print(tensor)
    out.update(first_row=tensor[0], last_column=tensor[..., -1], tensor=tensor)
    # Joining tensors
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    print(t1)
    out.update(t1=t1)
    # Arithmetic operations
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    out.update(y1=y1, y2=y2, y3=y3, z1=z1, z2=z2, z3=z3)
    # Single-element tensors
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    out.update(agg_item=(agg_item, type(agg_item)))
    # In-place operations
    print(f"{tensor} \n")
    tensor.add_(5)
    print(tensor)
    out.update(added=tensor)
    # Bridge with NumPy: Tensor to NumPy array
    t = torch.ones(5)
    print(f"t: {t}")
    n = t.numpy()
    print(f"n: {n}")
    t.add_(1)
    print(f"t: {t}")
    print(f"n: {n}")
    out.update(t=t, n=n.copy())
    # NumPy array to Tensor
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}")
    print(f"n: {n}")
    out.update(t_from_numpy=t)
    return {k: numpy_of(v) if hasattr(v, "detach") else v for k, v in out.items()}


def torch_names(value):
    """torch's printed names in micrograd's spelling: torch.float32 -> micrograd.float32."""
    if isinstance(value, tuple):
        return tuple(torch_names(v) for v in value)
    return value.replace("torch.", "micrograd.") if isinstance(value, str) else value


def test_tensors_tutorial():
    ours = tensors_tutorial(micrograd)
    assert ours["n"].tolist() == [2.0] * 5  # t.numpy() shares t's memory
    assert ours["t_from_numpy"].tolist() == [2.0] * 5  # so does torch.from_numpy(n)
    real_torch = oracle()
    theirs = tensors_tutorial(real_torch)
    assert ours.keys() == theirs.keys()
    for key in ours:
        if isinstance(ours[key], np.ndarray):
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
            assert ours[key].dtype == theirs[key].dtype, key
        else:
            assert ours[key] == torch_names(theirs[key]), key


def autograd_tutorial(torch):
    """'Automatic Differentiation with torch.autograd' (autogradqs_tutorial.py), every cell."""
    out = {}
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    # w = torch.randn(5, 3, requires_grad=True), b = torch.randn(3, requires_grad=True)
    rng = np.random.default_rng(2)
    w = torch.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    # Computing gradients
    loss.backward()
    print(w.grad)
    print(b.grad)
    out.update(loss=loss.item(), w_grad=numpy_of(w.grad), b_grad=numpy_of(b.grad))
    # Disabling gradient tracking
    z = torch.matmul(x, w) + b
    print(z.requires_grad)
    out.update(tracked=z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    print(z.requires_grad)
    out.update(no_grad=z.requires_grad)
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    print(z_det.requires_grad)
    out.update(detached=z_det.requires_grad)
    # Optional reading: tensor gradients and Jacobian products
    inp = torch.eye(4, 5, requires_grad=True)
    out_ = (inp + 1).pow(2).t()
    out_.backward(torch.ones_like(out_), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.update(first=numpy_of(inp.grad).copy())
    out_.backward(torch.ones_like(out_), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    out.update(second=numpy_of(inp.grad).copy())
    inp.grad.zero_()
    out_.backward(torch.ones_like(out_), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    out.update(zeroed=numpy_of(inp.grad).copy())
    return out


def test_autograd_tutorial():
    ours = autograd_tutorial(micrograd)
    assert (ours["tracked"], ours["no_grad"], ours["detached"]) == (True, False, False)
    np.testing.assert_array_equal(ours["second"], 2 * ours["first"])  # gradients accumulate
    np.testing.assert_array_equal(ours["zeroed"], ours["first"])
    real_torch = oracle()
    theirs = autograd_tutorial(real_torch)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, err_msg=key)


def gentle_autograd(torch):
    """'A Gentle Introduction to torch.autograd' (autograd_tutorial.py): the differentiation
    cells as published; the frozen-parameters cells with a small MLP in place of
    torchvision's resnet18 (which would be downloaded)."""
    nn, optim = torch.nn, torch.optim
    out = {}
    # Differentiation in Autograd
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    # check if collected gradients are correct
    print(9*a**2 == a.grad)
    print(-2*b == b.grad)
    out.update(a_ok=(9*a**2 == a.grad).tolist(), b_ok=(-2*b == b.grad).tolist())
    # Exclusion from the DAG
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    out.update(a_requires=a.requires_grad, b_requires=b.requires_grad)
    class ResNetStandIn(nn.Module):
        """resnet18's shape where it matters here: a body, then a classifier named fc."""
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 512)
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            return self.fc(torch.relu(self.body(x)))

    model = ResNetStandIn()  # resnet18(weights=ResNet18_Weights.DEFAULT) in the tutorial
    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    # Optimize only the classifier
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    # not in the tutorial: one step, then check what moved
    frozen = [p.detach().numpy().copy() for p in model.body.parameters()]
    model(torch.rand(3, 8)).sum().backward()
    optimizer.step()
    out.update(frozen_grads=[p.grad is None for p in model.body.parameters()],
               frozen_unchanged=all(np.array_equal(p.detach().numpy(), f)
                                    for p, f in zip(model.body.parameters(), frozen)),
               fc_has_grad=[p.grad is not None for p in model.fc.parameters()])
    return out


def test_gentle_autograd():
    ours = gentle_autograd(micrograd)
    assert ours == {"a_ok": [True, True], "b_ok": [True, True], "a_requires": False,
                    "b_requires": True, "frozen_grads": [True, True], "frozen_unchanged": True,
                    "fc_has_grad": [True, True]}
    real_torch = oracle()
    assert gentle_autograd(real_torch) == ours


def numpy_init(torch, model, seed):
    """Not in the tutorials: nn.Linear's default init (kaiming-uniform) drawn by NumPy, so both
    libraries start from the same weights."""
    rng = np.random.default_rng(seed)
    state = model.state_dict()
    for name, value in state.items():
        fan_in = state[name.rsplit(".", 1)[0] + ".weight"].shape[-1]
        draws = rng.uniform(-1, 1, tuple(value.shape)) / math.sqrt(fan_in)
        state[name] = torch.tensor(draws.astype(np.float32))
    model.load_state_dict(state)


def neural_network_class(torch, side):
    """'Build the Neural Network''s class, as published (``side`` is 28; 8 for the digits)."""
    nn = torch.nn

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(side*side, 512),
                nn.ReLU(),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Linear(512, 10),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    return NeuralNetwork


def build_model_tutorial(torch):
    """'Build the Neural Network' (buildmodel_tutorial.py): FashionMNIST's model on random
    input; returns the printed model and the shapes."""
    nn = torch.nn
    out = {}
    device = (torch.accelerator.current_accelerator().type
              if torch.accelerator.is_available() else "cpu")
    print(f"Using {device} device")
    NeuralNetwork = neural_network_class(torch, 28)
    model = NeuralNetwork().to(device)
    print(model)
    out.update(model=str(model))
    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    print(f"Predicted class: {y_pred}")
    out.update(logits=tuple(logits.shape), y_pred=tuple(y_pred.shape),
               probabilities_sum=pred_probab.sum().item())
    # Model Layers
    input_image = torch.rand(3, 28, 28)
    print(input_image.size())
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    print(flat_image.size())
    layer1 = nn.Linear(in_features=28*28, out_features=20)
    hidden1 = layer1(flat_image)
    print(hidden1.size())
    print(f"Before ReLU: {hidden1}\n\n")
    hidden1 = nn.ReLU()(hidden1)
    print(f"After ReLU: {hidden1}")
    out.update(sizes=[tuple(t.size()) for t in (input_image, flat_image, hidden1)],
               relu_min=hidden1.min().item())
    seq_modules = nn.Sequential(
        flatten,
        layer1,
        nn.ReLU(),
        nn.Linear(20, 10)
    )
    input_image = torch.rand(3, 28, 28)
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    out.update(seq_probabilities=pred_probab.sum(1).tolist())
    # Model Parameters
    print(f"Model structure: {model}\n\n")
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    out.update(parameters=[(name, tuple(param.size()), tuple(param[:2].shape))
                           for name, param in model.named_parameters()])
    return out


def test_build_model_tutorial():
    ours = build_model_tutorial(micrograd)
    assert ours["logits"] == (1, 10) and ours["y_pred"] == (1,)
    assert ours["probabilities_sum"] == pytest.approx(1, rel=1e-6)
    assert ours["seq_probabilities"] == pytest.approx([1, 1, 1], rel=1e-6)
    assert ours["relu_min"] >= 0
    real_torch = oracle()
    theirs = build_model_tutorial(real_torch)
    for key in ("model", "logits", "y_pred", "sizes", "parameters"):
        assert ours[key] == theirs[key], key


def optimization_tutorial(torch, epochs=3):
    """'Optimizing Model Parameters' (optimization_tutorial.py) with the digits (8x8 images,
    1000 to train, 500 to test) in place of FashionMNIST. Returns each epoch's test loss and
    accuracy and the printed training losses."""
    nn = torch.nn
    Dataset, DataLoader = torch.utils.data.Dataset, torch.utils.data.DataLoader
    x_train, y_train, x_test, y_test = digits()

    class Digits(Dataset):  # datasets.FashionMNIST(..., transform=ToTensor()) in the tutorial
        def __init__(self, images, labels):
            self.images, self.labels = images.reshape(-1, 1, 8, 8), labels

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            return torch.tensor(self.images[idx]), int(self.labels[idx])

    training_data, test_data = Digits(x_train, y_train), Digits(x_test, y_test)
    train_dataloader = DataLoader(training_data, batch_size=64)
    test_dataloader = DataLoader(test_data, batch_size=64)

    model = neural_network_class(torch, 8)()
    numpy_init(torch, model, seed=3)

    learning_rate = 1e-1  # 1e-3 in the tutorial, with 938 batches an epoch (16 here)
    batch_size = 64
    printed, tested = [], []

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        # Set the model to training mode - important for batch normalization and dropout layers
        # Unnecessary in this situation but added for best practices
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            # Compute prediction and loss
            pred = model(X)
            loss = loss_fn(pred, y)

            # Backpropagation
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

            if batch % 10 == 0:  # 100 in the tutorial, over 938 batches
                loss, current = loss.item(), batch * batch_size + len(X)
                print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
                printed.append(loss)

    def test_loop(dataloader, model, loss_fn):
        # Set the model to evaluation mode - important for batch normalization and dropout layers
        # Unnecessary in this situation but added for best practices
        model.eval()
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        test_loss, correct = 0, 0

        # Evaluating the model with torch.no_grad() ensures that no gradients are computed
        # during test mode; also serves to reduce unnecessary gradient computations and memory
        # usage for tensors with requires_grad=True
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()

        test_loss /= num_batches
        correct /= size
        print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        tested.append((test_loss, correct))

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
    print("Done!")
    return printed, tested


def test_optimization_tutorial():
    printed, tested = optimization_tutorial(micrograd)
    assert tested[-1][0] < tested[0][0] and tested[-1][1] > 0.5, (printed, tested)
    real_torch = oracle()
    their_printed, their_tested = optimization_tutorial(real_torch)
    np.testing.assert_allclose(printed, their_printed, rtol=1e-4)
    np.testing.assert_allclose(tested, their_tested, rtol=1e-4)


def quickstart_save_load(torch, path):
    """'Quickstart''s last cells: save the state_dict, load it into a new model, predict."""
    NeuralNetwork = neural_network_class(torch, 8)
    model = NeuralNetwork()
    numpy_init(torch, model, seed=4)
    torch.save(model.state_dict(), path)
    print("Saved PyTorch Model State to model.pth")
    model = NeuralNetwork()
    model.load_state_dict(torch.load(path, weights_only=True))
    classes = [str(digit) for digit in range(10)]  # FashionMNIST's class names
    model.eval()
    x_test, y_test = digits()[2:]
    test_data = torch.utils.data.TensorDataset(torch.tensor(x_test.reshape(-1, 1, 8, 8)),
                                               torch.tensor(y_test))
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to("cpu")
        pred = model(x)
        predicted, actual = classes[pred[0].argmax(0)], classes[y]
        print(f'Predicted: "{predicted}", Actual: "{actual}"')
    return numpy_of(pred), predicted, actual


def test_quickstart_save_load(tmp_path):
    ours = quickstart_save_load(micrograd, tmp_path / "model.pth")
    real_torch = oracle()
    theirs = quickstart_save_load(real_torch, tmp_path / "torch_model.pth")
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    assert ours[1:] == theirs[1:]


def transforms_target(torch):
    """'Transforms' (transforms_tutorial.py): the one-hot target transform, as published."""
    target_transform = (lambda y: torch.zeros(10, dtype=torch.float)
                        .scatter_(0, torch.tensor(y), value=1))
    return [numpy_of(target_transform(y)) for y in (0, 3, 9)]


def test_transforms_target_transform():
    ours = transforms_target(micrograd)
    np.testing.assert_array_equal(ours, np.eye(10, dtype=np.float32)[[0, 3, 9]])
