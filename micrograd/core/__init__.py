"""The core engine: the scalar ``Value``, the ``Tensor`` and its ops, autograd, dtypes and the
per-thread settings every op reads. Nothing here imports the tools or the applications."""
