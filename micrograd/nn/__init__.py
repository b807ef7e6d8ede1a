"""Neural networks: ``Module`` and the layers, losses and helpers built on ``Tensor``.

One ``Module`` base class serves both engines: the classic scalar ``Neuron``, ``Layer`` and
``MLP`` of ``micrograd.engine.Value`` (``nn.scalar``, classic micrograd's API) subclass it too,
so ``from micrograd.nn import MLP`` runs classic programs unchanged, while ``nn.Linear``,
``nn.Sequential`` and friends are PyTorch's tensor layers.
"""
from . import attention, functional, init, utils  # attention adds its F functions
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh,
                         LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid,
                         SiLU, Softmax, Softmin, Softplus, Softsign, Tanh, Threshold)
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .layers import (BatchNorm1d, BatchNorm2d, CircularPad1d, CircularPad2d, CircularPad3d,
                     ConstantPad1d, ConstantPad2d, ConstantPad3d, CosineSimilarity, Dropout,
                     Dropout2d, Flatten, GroupNorm, Identity, LayerNorm, Linear, ModuleList,
                     PairwiseDistance, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                     ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, Sequential,
                     Unflatten, Upsample, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                   NLLLoss, SmoothL1Loss)
from .module import Module, Parameter
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                      MaxPool2d, MaxUnpool2d)
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .scalar import MLP, Layer, Neuron
from .sparse import Embedding, EmbeddingBag
from .transformer import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ModuleList", "Identity", "ReLU",
           "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax", "ELU", "SELU", "CELU",
           "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "Softsign", "LogSigmoid",
           "Softplus", "SiLU", "GLU", "PReLU", "Threshold", "Softmin", "Dropout",
           "BatchNorm1d", "LayerNorm", "Flatten", "CosineSimilarity", "PairwiseDistance", "Conv1d", "Conv2d", "ConvTranspose2d",
           "BatchNorm2d", "GroupNorm", "Dropout2d", "Unflatten", "Upsample",
           "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "MaxUnpool2d", "Embedding", "EmbeddingBag", "RNNBase", "RNN",
           "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerEncoder",
           "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
           "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
           "CircularPad3d", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "Neuron", "Layer", "MLP",
           "functional", "init", "utils"]
