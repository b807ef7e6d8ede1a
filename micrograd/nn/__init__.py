"""Neural-network building blocks.

The scalar classes (``Module``, ``Neuron``, ``Layer``, ``MLP``) are classic micrograd's, built on
``micrograd.engine.Value``.
"""
from .scalar import MLP, Layer, Module, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP"]
