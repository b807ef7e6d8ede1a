"""Neural networks: ``Module`` and the layers, losses and helpers built on ``Tensor``.

One ``Module`` base class serves both engines: the classic scalar ``Neuron``, ``Layer`` and
``MLP`` of ``micrograd.engine.Value`` (``nn.scalar``, classic micrograd's API) subclass it too,
so ``from micrograd.nn import MLP`` runs classic programs unchanged, while ``nn.Linear``,
``nn.Sequential`` and friends are PyTorch's tensor layers.
"""
from . import functional, init, utils
from .layers import (GELU, BatchNorm1d, Dropout, Flatten, Identity, LayerNorm, LeakyReLU, Linear,
                     LogSoftmax, ModuleList, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                   NLLLoss)
from .module import Module, Parameter
from .scalar import MLP, Layer, Neuron

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ModuleList", "Identity", "ReLU",
           "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax", "Dropout",
           "BatchNorm1d", "LayerNorm", "Flatten", "MSELoss", "L1Loss", "HuberLoss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "Neuron", "Layer", "MLP",
           "functional", "init", "utils"]
