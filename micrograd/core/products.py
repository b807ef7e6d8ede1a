"""Products with torch's names and semantics: mm, bmm, mv, dot, inner, outer, the addmm family
(beta/alpha), tensordot, einsum, cross, kron, multi_dot, trace, cdist.

Every product that sums over a dim is one ``matmul`` (2-D, or batched with equal batch dims), so
the work runs on the C GEMM where the backend has it, and gradients come from matmul's. Only
cdist is a primitive of its own (torch's gradient at zero distance has no composition).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from . import dtypes
from .errors import OpError
from .ops import Function
from .shapes import dim_index
from .tensor import Tensor, _inplace, apply_op, matmul, where, wrap_array, write_out

__all__: list[str] = ["mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
                      "addmv", "addbmm", "baddbmm", "addr", "tensordot", "einsum", "cross",
                      "kron", "chain_matmul", "trace", "cdist"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # einsum's subscripts, in order


# ---- argument checks ----------------------------------------------------------------------------
def _tensors(name: str, **named: Any) -> None:
    """TypeError unless every argument is a Tensor (torch takes no lists or numbers here)."""
    for arg, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(t).__name__}")


def _same_dtype(name: str, **named: Tensor) -> None:
    """torch's products without type promotion: all operands of one dtype, and not bool."""
    if len({t.dtype for t in named.values()}) > 1:
        got = ", ".join(f"{arg} {t.dtype.name}" for arg, t in named.items())
        raise OpError(f"{name}: expected all operands to have the same dtype, got {got}")
    if next(iter(named.values()))._array.dtype.kind == "b":
        raise NotImplementedError(f"{name}: not implemented for bool tensors (as in torch)")


def _rank(name: str, t: Tensor, arg: str, ndim: int) -> None:
    if t.ndim != ndim:
        raise OpError(f"{name}: {arg} must be a {ndim}-D tensor, got a {t.ndim}-D tensor of "
                      f"shape {list(t.shape)}")


def _matrices(name: str, a: Tensor, b: Tensor, names: tuple = ("mat1", "mat2")) -> None:
    """Two matrices of one dtype whose inner dims agree."""
    _rank(name, a, names[0], 2)
    _rank(name, b, names[1], 2)
    if a.shape[1] != b.shape[0]:
        raise OpError(f"{name}: {names[0]} and {names[1]} shapes cannot be multiplied "
                      f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _same_dtype(name, **{names[0]: a, names[1]: b})


def _batches(name: str, a: Tensor, b: Tensor) -> None:
    """Two 3-D stacks of matrices of one dtype: as many of each, inner dims agreeing."""
    _rank(name, a, "batch1", 3)
    _rank(name, b, "batch2", 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise OpError(f"{name}: expected batch2's first two dims to be [{a.shape[0]}, "
                      f"{a.shape[2]}] for batch1 of shape {list(a.shape)}, but batch2 has "
                      f"shape {list(b.shape)}")
    _same_dtype(name, batch1=a, batch2=b)


def _vectors(name: str, a: Tensor, b: Tensor) -> None:
    """dot/vdot: two 1-D tensors of one size and dtype."""
    if a.ndim != 1 or b.ndim != 1:
        raise OpError(f"{name}: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise OpError(f"{name}: inconsistent tensor size, expected tensors of the same number "
                      f"of elements, but got {a.shape[0]} and {b.shape[0]} elements")
    _same_dtype(name, input=a, other=b)


def _broadcasts_to(name: str, t: Tensor, shape: tuple) -> None:
    """``input`` of the addmm family is expanded to the product's shape (one way, as expand)."""
    if t.ndim > len(shape) or any(s not in (1, n) for s, n in zip(t.shape[::-1], shape[::-1])):
        raise OpError(f"{name}: input of shape {list(t.shape)} cannot be expanded to the "
                      f"product's shape {list(shape)}")


def _coefficient(name: str, arg: str, value: Any, result: Tensor) -> Any:
    """beta or alpha of the addmm family: a number or a one-element tensor; integer results
    truncate a float (torch casts it to the result's type)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, (complex, np.complexfloating)) or not isinstance(
            value, (int, float, np.number, np.bool_)):
        raise TypeError(f"{name}(): argument '{arg}' must be a real number, not "
                        f"{type(value).__name__}")
    return int(value) if result._array.dtype.kind in "iu" else value


_NEVER = wrap_array(np.zeros((), np.bool_))


def _scale_and_add(name: str, input: Tensor, product: Tensor, beta: Any,  # noqa: A002
                   alpha: Any) -> Tensor:
    """beta * input + alpha * product, input broadcast to product's shape. beta = 0 ignores
    input's values (NaN and inf too) and sends it a zero gradient, as torch."""
    _broadcasts_to(name, input, product.shape)
    beta = _coefficient(name, "beta", beta, product)
    alpha = _coefficient(name, "alpha", alpha, product)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        # a where whose condition is never true: input stays in the graph, its values unused
        return where(_NEVER, input, product) if input.requires_grad else product
    return product + (input if beta == 1 else input * beta)


def _out(result: Tensor, out: Tensor | None, inputs: tuple, name: str,
         exact: bool = True) -> Tensor:
    """torch's out=: ``write_out``; the products that do not promote (``exact``) also require
    out to have the result's dtype."""
    if out is None:
        return result
    if exact and isinstance(out, Tensor) and out.dtype != result.dtype:
        raise OpError(f"{name}: expected out tensor to have dtype {result.dtype.name}, but got "
                      f"{out.dtype.name} instead")
    return write_out(result, out, inputs, name)


# ---- matrix and vector products -----------------------------------------------------------------
def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors (no broadcasting; ``matmul`` has it)."""
    _tensors("mm", input=input, mat2=mat2)
    _matrices("mm", input, mat2, ("self", "mat2"))
    return _out(matmul(input, mat2), out, (input, mat2), "mm")


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting)."""
    _tensors("bmm", input=input, mat2=mat2)
    _batches("bmm", input, mat2)
    return _out(matmul(input, mat2), out, (input, mat2), "bmm")


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Matrix (n, k) times vector (k,) -> (n,)."""
    _tensors("mv", input=input, vec=vec)
    _check_mv("mv", input, vec)
    return _out(matmul(input, vec), out, (input, vec), "mv")


def _check_mv(name: str, mat: Tensor, vec: Tensor) -> None:
    if mat.ndim != 2 or vec.ndim != 1:
        raise OpError(f"{name}: expected a matrix and a vector, got {mat.ndim}-D and "
                      f"{vec.ndim}-D tensors")
    if mat.shape[1] != vec.shape[0]:
        raise OpError(f"{name}: size mismatch, got mat ({mat.shape[0]}x{mat.shape[1]}), vec "
                      f"({vec.shape[0]})")
    _same_dtype(name, mat=mat, vec=vec)


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Inner product of two 1-D tensors of the same size and dtype -> 0-d."""
    _tensors("dot", input=input, tensor=tensor)
    _vectors("dot", input, tensor)
    return _out(matmul(input, tensor), out, (input, tensor), "dot")


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """conj(input) . other; micrograd has no complex dtypes, so this is ``dot``."""
    _tensors("vdot", input=input, other=other)
    _vectors("vdot", input, other)
    return _out(matmul(input, other), out, (input, other), "vdot")


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Sum over the last dims: out[i.., j..] = sum_k input[i.., k] other[j.., k]; a 0-d operand
    multiplies (with type promotion, as torch)."""
    _tensors("inner", input=input, other=other)
    if input.ndim == 0 or other.ndim == 0:
        return _out(input * other, out, (input, other), "inner")
    if input.shape[-1] != other.shape[-1]:
        raise OpError(f"inner: the last dimension must match on both input tensors but got "
                      f"shapes {list(input.shape)} and {list(other.shape)}")
    _same_dtype("inner", input=input, other=other)
    return _out(_tensordot(input, other, [input.ndim - 1], [other.ndim - 1]), out,
                (input, other), "inner")


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """out[i, j] = input[i] * vec2[j] for 1-D tensors (dtypes promote, as torch)."""
    _tensors("outer", input=input, vec2=vec2)
    _outer_args("outer", input, vec2, ("self", "vec2"))
    return _out(input.reshape(-1, 1) * vec2, out, (input, vec2), "outer", exact=False)


def ger(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """torch's old name of ``outer``."""
    return outer(input, vec2, out=out)


def _outer_args(name: str, a: Tensor, b: Tensor, names: tuple) -> None:
    for t, arg in zip((a, b), names):
        if t.ndim != 1:
            raise OpError(f"{name}: Expected 1-D argument {arg}, but got {t.ndim}-D")


# ---- the addmm family: beta * input + alpha * product -----------------------------------------
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    _tensors("addmm", input=input, mat1=mat1, mat2=mat2)
    _matrices("addmm", mat1, mat2)
    _same_dtype("addmm", input=input, mat1=mat1)
    result = _scale_and_add("addmm", input, matmul(mat1, mat2), beta, alpha)
    return _out(result, out, (input, mat1, mat2), "addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    _tensors("addmv", input=input, mat=mat, vec=vec)
    _check_mv("addmv", mat, vec)
    _same_dtype("addmv", input=input, mat=mat)
    result = _scale_and_add("addmv", input, matmul(mat, vec), beta, alpha)
    return _out(result, out, (input, mat, vec), "addmv")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
           alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    _tensors("addbmm", input=input, batch1=batch1, batch2=batch2)
    _batches("addbmm", batch1, batch2)
    _same_dtype("addbmm", input=input, batch1=batch1)
    b, n, k = batch1.shape
    # the sum of the b products is one product: [b1[0] b1[1] ...] (n, b*k) @ [b2[0]; b2[1]; ...]
    product = matmul(batch1.transpose(0, 1).reshape(n, b * k),
                     batch2.reshape(b * k, batch2.shape[2]))
    result = _scale_and_add("addbmm", input, product, beta, alpha)
    return _out(result, out, (input, batch1, batch2), "addbmm")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
            alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2); input broadcasts to (b, n, p)."""
    _tensors("baddbmm", input=input, batch1=batch1, batch2=batch2)
    _batches("baddbmm", batch1, batch2)
    _same_dtype("baddbmm", input=input, batch1=batch1)
    result = _scale_and_add("baddbmm", input, matmul(batch1, batch2), beta, alpha)
    return _out(result, out, (input, batch1, batch2), "baddbmm")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1,  # noqa: A002
         alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2). Unlike addmm, dtypes promote, bool tensors
    work (or / and), and integer results refuse a float beta or alpha, as in torch."""
    _tensors("addr", input=input, vec1=vec1, vec2=vec2)
    _outer_args("addr", vec1, vec2, ("vec1", "vec2"))
    product = vec1.reshape(-1, 1) * vec2
    if product.dtype != input.dtype:
        target = dtypes.promote(product._array.dtype, input._array.dtype)
        product, input = product.to(target), input.to(target)
    kind = product._array.dtype.kind
    for arg, value in (("beta", beta), ("alpha", alpha)):
        if kind in "biu" and isinstance(value, (float, np.floating)):
            raise OpError(f"addr: for integral input tensors, argument {arg} must not be a "
                          "floating point number")
        if kind not in "b" and isinstance(value, (bool, np.bool_)):
            raise OpError(f"addr: Boolean {arg} only supported for Boolean results")
    if kind == "b":  # (alpha and outer) or (beta and input)
        _broadcasts_to("addr", input, product.shape)
        result = ((product & wrap_array(np.array(bool(alpha))))
                  | (input & wrap_array(np.array(bool(beta)))))
    else:
        result = _scale_and_add("addr", input, product, beta, alpha)
    return _out(result, out, (input, vec1, vec2), "addr", exact=False)


# in-place forms (Tensor methods): the out-of-place result written into self, which must keep
# its shape; recorded for autograd by tensor._inplace
def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """In-place ``addmm`` (torch.Tensor.addmm_): self = beta * self + alpha * (mat1 @ mat2)."""
    return _inplace(self, "addmm_", lambda t, a, b: addmm(t, a, b, beta=beta, alpha=alpha),
                    mat1, mat2)


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """In-place ``addmv`` (torch.Tensor.addmv_): self = beta * self + alpha * (mat @ vec)."""
    return _inplace(self, "addmv_", lambda t, a, b: addmv(t, a, b, beta=beta, alpha=alpha),
                    mat, vec)


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """In-place ``addbmm`` (torch.Tensor.addbmm_): self = beta * self + alpha * sum_b
    batch1[b] @ batch2[b]."""
    return _inplace(self, "addbmm_", lambda t, a, b: addbmm(t, a, b, beta=beta, alpha=alpha),
                    batch1, batch2)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
             alpha: Any = 1) -> Tensor:
    """In-place ``baddbmm`` (torch.Tensor.baddbmm_): self = beta * self + alpha *
    bmm(batch1, batch2)."""
    return _inplace(self, "baddbmm_", lambda t, a, b: baddbmm(t, a, b, beta=beta, alpha=alpha),
                    batch1, batch2)


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """In-place ``addr`` (torch.Tensor.addr_): self = beta * self + alpha * outer(vec1, vec2)."""
    return _inplace(self, "addr_", lambda t, a, b: addr(t, a, b, beta=beta, alpha=alpha),
                    vec1, vec2)


# ---- tensordot ----------------------------------------------------------------------------------
def tensordot(a: Tensor, b: Tensor, dims: Any = 2,
              out: Tensor | None = None) -> Tensor:
    """Sum over dims of a paired with dims of b: ``dims`` is an int n (a's last n with b's first
    n), a pair of lists ([dims of a], [dims of b]), or a tensor holding either."""
    _tensors("tensordot", a=a, b=b)
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise OpError(f"tensordot: both dimension lists should have same length, got {dims_a} "
                      f"and {dims_b}")
    dims_a = [dim_index(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [dim_index(d, b.ndim, "tensordot") for d in dims_b]
    for ds in (dims_a, dims_b):
        for d in ds:
            if ds.count(d) > 1:
                raise OpError(f"tensordot: dim {d} appears multiple times in the list of dims")
    _same_dtype("tensordot", a=a, b=b)
    for da, db in zip(dims_a, dims_b):
        sa, sb = a.shape[da], b.shape[db]
        if sa != sb and 1 not in (sa, sb):
            raise OpError(f"tensordot: contracted dimensions need to match, but first has size "
                          f"{sa} in dim {da} and second has size {sb} in dim {db}")
    return _out(_tensordot(a, b, dims_a, dims_b), out, (a, b), "tensordot")


def _tensordot_dims(a: Tensor, b: Tensor, dims: Any) -> tuple:
    """tensordot's ``dims`` argument as two lists."""
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.numel() == 1 else dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise OpError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise OpError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        if not all(isinstance(ds, (list, tuple)) for ds in dims):
            raise TypeError(f"tensordot: dims must be a pair of lists of ints, got {dims}")
        return list(dims[0]), list(dims[1])
    raise OpError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                  f"list[list[int]] containing two lists, but got dims={dims}")


def _tensordot(a: Tensor, b: Tensor, dims_a: list, dims_b: list) -> Tensor:
    """(free dims of a, contracted) @ (contracted, free dims of b) as one 2-D matmul. A
    contracted dim of size 1 on one side is summed on the other first (torch broadcasts it)."""
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            if a.shape[da] == 1:
                b = b.sum(db, keepdim=True)
            else:
                a = a.sum(da, keepdim=True)
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    lhs = a.permute(*free_a, *dims_a).reshape(math.prod(a.shape[d] for d in free_a), k)
    rhs = b.permute(*dims_b, *free_b).reshape(k, math.prod(b.shape[d] for d in free_b))
    return matmul(lhs, rhs).reshape(*[a.shape[d] for d in free_a],
                                    *[b.shape[d] for d in free_b])


# ---- einsum -------------------------------------------------------------------------------------
def einsum(*args: Any) -> Tensor:
    """torch.einsum: ``einsum("ij,jk->ik", a, b)`` (operands as arguments or one list), with
    ``...``, implicit output (the subscripts used once, sorted, after the ellipsis dims), spaces,
    and the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    torch's algorithm, so its results, dtypes and size-1 broadcasting are torch's: repeated
    subscripts of an operand take its diagonal; every operand is permuted into one shared dim
    order (output subscripts first, then the summed ones; size 1 where it lacks one); then the
    operands are contracted left to right, each pair as one batched ``matmul`` over the dims
    summed there (a plain product when none is), after summing the dims no later operand has.
    """
    equation, operands = _einsum_args(args)
    terms, output = _einsum_parse(equation, operands)
    order = output + _summed_labels(terms, output)
    ops = [_align(op, labels, order) for op, labels in zip(operands, terms)]
    n_out = len(output)
    if len(ops) == 1:
        summed = tuple(range(n_out, len(order)))
        return ops[0].sum(summed) if summed else ops[0]
    # how many operands still hold each summed dim with size > 1: a pair holding its last two
    # sums it in the product; a last lone holder sums it alone first
    left = {d: sum(op.shape[d] != 1 for op in ops) for d in range(n_out, len(order))}
    a = ops[0]
    for b in ops[1:]:
        pair, only_a, only_b = [], [], []
        for d in range(n_out, len(order)):
            if a.shape[d] != 1 and b.shape[d] != 1:
                left[d] -= 1
                if left[d] == 1:
                    pair.append(d)
                    left[d] = 0
            elif left[d] == 1 and a.shape[d] != 1:
                only_a.append(d)
                left[d] = 0
            elif left[d] == 1 and b.shape[d] != 1:
                only_b.append(d)
                left[d] = 0
        a = a.sum(only_a, keepdim=True) if only_a else a
        b = b.sum(only_b, keepdim=True) if only_b else b
        a = _sum_product(a, b, pair)
    return a.reshape(a.shape[:n_out])  # the summed dims all have size 1 now


def _einsum_args(args: tuple) -> tuple:
    """(equation, operands) from einsum's three calling forms."""
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], Tensor):
        return _sublist_equation(args)
    if not isinstance(args[0], str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(args[0]).__name__}")
    operands = args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): expected Tensor as operand {i}, but got "
                            f"{type(op).__name__}")
    return args[0], list(operands)


def _sublist_equation(args: tuple) -> tuple:
    """einsum(op0, sublist0, op1, sublist1, ..., [output sublist]) as an equation: subscript
    k in [0, 52) is the k-th of A..Z a..z, Ellipsis is ``...``."""
    def term(sublist: Any) -> str:
        letters = []
        for s in sublist:
            if s is Ellipsis:
                letters.append("...")
            elif isinstance(s, (int, np.integer)) and not isinstance(s, bool):
                if not 0 <= s < len(_LETTERS):
                    raise ValueError("einsum(): subscript in subscript list is not within the "
                                     f"valid range [0, 52), got {s}")
                letters.append(_LETTERS[s])
            else:
                raise TypeError(f"einsum(): subscripts must be ints or Ellipsis, got {s!r}")
        return "".join(letters)
    operands, terms = [], []
    for op, sublist in zip(args[0::2], args[1::2]):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): expected a Tensor before each subscripts list, got "
                            f"{type(op).__name__}")
        operands.append(op)
        terms.append(term(sublist))
    equation = ",".join(terms)
    return (equation + "->" + term(args[-1]) if len(args) % 2 else equation), operands


def _subscripts(term: str, offset: int, what: str) -> list:
    """'i j...k' -> ['i', 'j', Ellipsis, 'k'] (spaces ignored); ``offset``: where ``term`` starts
    in the equation, for the error's index."""
    labels: list = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            if Ellipsis in labels:
                raise OpError(f"einsum(): found '.' for {what} for which an ellipsis was already "
                              "found")
            labels.append(Ellipsis)
            i += 3
            continue
        c = term[i]
        if c == ".":
            raise OpError(f"einsum(): found '.' for {what} that is not part of any ellipsis")
        if c in _LETTERS:
            labels.append(c)
        elif c != " ":
            raise OpError(f"einsum(): invalid subscript given at index {offset + i} in the "
                          "equation string, subscripts must be in [a-zA-Z]")
        i += 1
    return labels


def _einsum_parse(equation: str, operands: list) -> tuple:
    """Each operand's subscripts and the output's, the ellipsis replaced by its dims: ints
    0..E-1 of the broadcast ellipsis (an operand's own ellipsis dims are the last ones); sizes
    checked to agree or broadcast (1)."""
    lhs, arrow, rhs = equation.partition("->")
    terms, offset = [], 0
    for i, term in enumerate(lhs.split(",")):
        terms.append(_subscripts(term, offset, f"operand {i}"))
        offset += len(term) + 1
    if len(terms) < len(operands):
        raise OpError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > len(operands):
        raise OpError("einsum(): fewer operands were provided than specified in the equation")
    n_ell = 0
    for i, (labels, op) in enumerate(zip(terms, operands)):
        named = len(labels) - (Ellipsis in labels)
        if Ellipsis not in labels and op.ndim != named:
            raise OpError(f"einsum(): the number of subscripts in the equation ({named}) does "
                          f"not match the number of dimensions ({op.ndim}) for operand {i} and "
                          "no ellipsis was given")
        if op.ndim < named:
            raise OpError(f"einsum(): the number of subscripts in the equation ({named}) is "
                          f"more than the number of dimensions ({op.ndim}) for operand {i}")
        n_ell = max(n_ell, op.ndim - named)
    for i, (labels, op) in enumerate(zip(terms, operands)):
        if Ellipsis in labels:
            at, own = labels.index(Ellipsis), op.ndim - len(labels) + 1
            labels[at:at + 1] = range(n_ell - own, n_ell)
    _check_sizes(terms, operands)
    seen = [label for labels in terms for label in labels]
    if not arrow:  # implicit output: the ellipsis dims, then the subscripts used once, sorted
        return terms, list(range(n_ell)) + sorted(c for c in set(seen) - {*range(n_ell)}
                                                  if seen.count(c) == 1)
    output = _subscripts(rhs, len(lhs) + 2, "output")
    for c in output:
        if c is not Ellipsis and c not in seen:
            raise OpError(f"einsum(): output subscript {c} does not appear in the equation for "
                          "any input operand")
        if output.count(c) > 1:
            raise OpError(f"einsum(): output subscript {c} appears more than once in the output")
    if Ellipsis in output:
        at = output.index(Ellipsis)
        output[at:at + 1] = range(n_ell)
    return terms, output


def _check_sizes(terms: list, operands: list) -> None:
    """One size per subscript: equal within an operand, equal or 1 across operands."""
    sizes: dict = {}
    for i, (labels, op) in enumerate(zip(terms, operands)):
        own: dict = {}
        for label, n in zip(labels, op.shape):
            if own.setdefault(label, n) != n:
                raise OpError(f"einsum(): subscript {label} is repeated for operand {i} but the "
                              f"sizes don't match, {n} != {own[label]}")
        for label, n in own.items():
            seen = sizes.setdefault(label, n)
            if n != seen and 1 not in (n, seen):
                what = (f"subscript {label}" if isinstance(label, str)
                        else f"dimension {label} covered by the ellipsis")
                raise OpError(f"einsum(): {what} has size {n} for operand {i} which does not "
                              f"broadcast with previously seen size {seen}")
            if seen == 1:
                sizes[label] = n


def _summed_labels(terms: list, output: list) -> list:
    """The labels not in the output, in torch's order: letters sorted, then ellipsis dims."""
    labels = {label for labels in terms for label in labels} - set(output)
    return (sorted(c for c in labels if isinstance(c, str))
            + sorted(c for c in labels if isinstance(c, int)))


def _align(op: Tensor, labels: list, order: list) -> Tensor:
    """``op`` with one dim per label of ``order``, in that order: its repeated labels reduced to
    their diagonal, size 1 for the labels it lacks."""
    labels = list(labels)
    for label in dict.fromkeys(labels):
        dims = [d for d, c in enumerate(labels) if c == label]
        if len(dims) > 1:
            op = _diagonal(op, dims)
            labels = [c for c in labels if c != label] + [label]
    present = sorted(labels, key=order.index)
    op = op.permute(*[labels.index(c) for c in present])
    return op.reshape(*[op.shape[present.index(c)] if c in labels else 1 for c in order])


def _diagonal(op: Tensor, dims: list) -> Tensor:
    """The diagonal of ``op`` over ``dims`` (all of size n), as its last dim: with those dims
    moved last and flattened, element (i, i, ..., i) is at i * (1 + n + ... + n^(r-1))."""
    rest = [d for d in range(op.ndim) if d not in dims]
    n, r = op.shape[dims[0]], len(dims)
    flat = op.permute(*rest, *dims).reshape(*[op.shape[d] for d in rest], n ** r)
    return flat[..., ::max(1, sum(n ** p for p in range(r)))]


def _sum_product(a: Tensor, b: Tensor, summed: list) -> Tensor:
    """sum over ``summed`` of a * b, for operands aligned by einsum (same ndim, size 1 where a
    label is absent); the summed dims are kept with size 1. One batched matmul
    (B, L, K) @ (B, K, R): B the dims both have, L and R those only a or only b has."""
    if not summed:
        return a * b
    if a.dtype != b.dtype:
        raise OpError(f"einsum(): a contraction needs operands of one dtype, got {a.dtype.name} "
                      f"and {b.dtype.name} (torch sums a lone integer dim to int64 first)")
    if a._array.dtype.kind == "b":
        raise NotImplementedError("einsum(): contracting bool tensors is not implemented (as in "
                                  "torch)")
    rest = [d for d in range(a.ndim) if d not in summed]
    both = [d for d in rest if a.shape[d] != 1 and b.shape[d] != 1]
    only_a = [d for d in rest if d not in both and b.shape[d] == 1]
    only_b = [d for d in rest if d not in both and b.shape[d] != 1]

    def size(t: Tensor, dims: list) -> int:
        return math.prod(t.shape[d] for d in dims)
    batch = (size(a, both),) if both else ()
    lhs = a.permute(*both, *only_a, *summed, *only_b).reshape(
        *batch, size(a, only_a), size(a, summed))
    rhs = b.permute(*both, *summed, *only_b, *only_a).reshape(
        *batch, size(b, summed), size(b, only_b))
    out = matmul(lhs, rhs).reshape(*[a.shape[d] for d in both + only_a],
                                   *[b.shape[d] for d in only_b], *[1] * len(summed))
    return out.permute(*np.argsort(both + only_a + only_b + summed).tolist())


# ---- cross, kron, chains, trace -----------------------------------------------------------------
def cross(input: Tensor, other: Tensor, dim: int | None = None, *,  # noqa: A002
          out: Tensor | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim``; dim=None (deprecated in torch, with its
    warning) takes input's first dim of size 3, where ``linalg.cross`` takes dim=-1."""
    _tensors("cross", input=input, other=other)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross. The "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        if 3 not in input.shape:
            raise OpError(f"cross: no dimension of size 3 in input of shape {list(input.shape)}")
        dim = input.shape.index(3)
    return _out(_cross("cross", input, other, dim), out, (input, other), "cross")


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1,  # noqa: A002
                 out: Tensor | None = None) -> Tensor:
    """torch.linalg.cross: the cross product of 3-vectors along ``dim`` (default the last);
    the other dims broadcast."""
    _tensors("linalg.cross", input=input, other=other)
    return _out(_cross("linalg.cross", input, other, dim), out, (input, other), "linalg.cross")


def _cross(name: str, a: Tensor, b: Tensor, dim: int) -> Tensor:
    """c = a[1 2 0] * b[2 0 1] - a[2 0 1] * b[1 2 0] along dim (the components picked by
    index_select, so gradients flow)."""
    if a.ndim != b.ndim:
        raise OpError(f"{name}: inputs must have the same number of dimensions, got shapes "
                      f"{list(a.shape)} and {list(b.shape)}")
    d = dim_index(dim, a.ndim, name)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:  # torch names the shapes as lists here
        raise OpError(f"{name}: shapes {list(a.shape)} and {list(b.shape)} cannot be broadcast "
                      "together") from None
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise OpError(f"{name}: inputs dimension {dim} must have length 3. Got {a.shape[d]} and "
                      f"{b.shape[d]}")
    _same_dtype(name, input=a, other=b)
    i12, i20 = wrap_array(np.array([1, 2, 0])), wrap_array(np.array([2, 0, 1]))
    return (a.index_select(d, i12) * b.index_select(d, i20)
            - a.index_select(d, i20) * b.index_select(d, i12))


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Kronecker product: block (i, j, ...) is input[i, j, ...] * other (the shorter shape
    padded with leading 1s; dtypes promote)."""
    _tensors("kron", input=input, other=other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + input.shape
    sb = (1,) * (n - other.ndim) + other.shape
    # a's dims at the even positions, b's at the odd ones: (a0, 1, a1, 1) * (1, b0, 1, b1)
    a = input.reshape(*[s for pair in zip(sa, (1,) * n) for s in pair])
    b = other.reshape(*[s for pair in zip((1,) * n, sb) for s in pair])
    result = (a * b).reshape(*[x * y for x, y in zip(sa, sb)])
    return _out(result, out, (input, other), "kron", exact=False)


def multi_dot(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """torch.linalg.multi_dot: the product of two or more matrices (the first and last may be
    vectors) in the order of fewest multiply-adds (the classic matrix-chain program)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise OpError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        _tensors("multi_dot", **{f"tensors[{i}]": t})
        edge = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
        if edge and t.ndim not in (1, 2):
            raise OpError(f"multi_dot(): the {edge} tensor must be 1D or 2D but got {t.ndim}D")
        if not edge and t.ndim != 2:
            raise OpError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    _same_dtype("multi_dot", **{f"tensors[{i}]": t for i, t in enumerate(tensors)})
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = ([tensors[0].reshape(1, -1)] if first else [tensors[0]]) + tensors[1:-1] + (
        [tensors[-1].reshape(-1, 1)] if last else [tensors[-1]])
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise OpError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                          f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot be "
                          "multiplied")
    result = _chain(mats, _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]]),
                    0, len(mats) - 1)
    result = result.reshape(*result.shape[first:2 - last])
    return _out(result, out, tuple(tensors), "multi_dot")


def _chain_order(sizes: list) -> list:
    """split[i][j]: where the cheapest product of matrices i..j splits (matrix i is
    sizes[i] x sizes[i + 1]), by dynamic programming over the chain's lengths."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))
    return split


def _chain(mats: list, split: list, i: int, j: int) -> Tensor:
    if i == j:
        return mats[i]
    k = split[i][j]
    return matmul(_chain(mats, split, i, k), _chain(mats, split, k + 1, j))


def chain_matmul(*matrices: Tensor, out: Tensor | None = None) -> Tensor:
    """The product of 2-D matrices (deprecated in torch for ``linalg.multi_dot``, with its
    warning); one matrix is returned as a copy."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise OpError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        _tensors("chain_matmul", **{f"matrices[{i}]": m})
        if m.ndim != 2:
            raise OpError(f"chain_matmul(): tensor {i} has {m.ndim} dims, expected 2")
    if len(matrices) == 1:
        return _out(matrices[0].clone(), out, matrices, "chain_matmul")
    return multi_dot(matrices, out=out)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """Sum of the main diagonal of a 2-D tensor (integers sum to int64, as torch)."""
    _tensors("trace", input=input)
    if input.ndim != 2:
        raise OpError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input._array.dtype.kind == "b":
        raise NotImplementedError("trace: not implemented for bool tensors (as in torch)")
    n, m = input.shape
    # element (i, i) of a row-major (n, m) matrix is element i * (m + 1) of its flattening
    return input.reshape(-1)[:min(n, m) * (m + 1):m + 1].sum()


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """torch.linalg.vecdot: sum of x * y over ``dim`` (broadcasting); floating point only.
    Two 1-D tensors are ``vdot`` (torch ignores ``dim`` there)."""
    _tensors("linalg.vecdot", x=x, y=y)
    if x.dtype != y.dtype:
        raise OpError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of "
                      f"type {x.dtype.name} and y of type {y.dtype.name} instead")
    if x._array.dtype.kind != "f":
        raise OpError(f"linalg.vecdot: Expected a floating point tensor as input. Got "
                      f"{x.dtype.name}")
    result = vdot(x, y) if x.ndim == 1 and y.ndim == 1 else (x * y).sum(dim)
    return _out(result, out, (x, y), "linalg.vecdot")


# ---- cdist: a primitive --------------------------------------------------------------------------
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


class Cdist(Function):
    """out[.., i, j] = ||d||_p, d = x1[.., i, :] - x2[.., j, :]
    dx1[.., i, :] = sum_j g_ij * dout_ij/dd    dx2[.., j, :] = -sum_i g_ij * dout_ij/dd
    dout/dd = sign(d) |d|^(p-1) / out^(p-1) (d / out for p = 2, sign(d) for p = 1, sign(d) at
    every coordinate reaching the max for p = inf, 0 for p = 0); 0 where out = 0, and for p < 1
    where d = 0 (torch's values at the kinks). Batch dims are equal (broadcast by the caller)."""
    saves_output = True

    def forward(self, x1, x2, p):
        self.x1, self.x2, self.p = x1, x2, p
        d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if p == 0:
            out = np.count_nonzero(d, axis=-1).astype(x1.dtype)
        elif p == np.inf:
            out = d.max(axis=-1, initial=0)
        elif p == 1:
            out = d.sum(-1)
        elif p == 2:
            out = np.sqrt((d * d).sum(-1))
        else:
            out = (d ** p).sum(-1) ** (1 / p)
        self.out = out
        return out

    def backward(self, g):
        p, dist = self.p, self.out[..., None]
        d = self.x1[..., :, None, :] - self.x2[..., None, :, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                local = np.zeros_like(d)
            elif p == 1:
                local = np.sign(d)
            elif p == np.inf:
                local = np.sign(d) * (np.abs(d) == dist)
            elif p == 2:
                local = d / dist
            else:
                local = np.sign(d) * np.abs(d) ** (p - 1) / dist ** (p - 1)
            local = np.where((dist == 0) | ((d == 0) & (p < 1)), 0, local)
        gd = g[..., None] * local
        need = self.needs_input_grad
        return (gd.sum(-2) if need[0] else None, -gd.sum(-3) if need[1] else None)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M) -> (.., P, R); batch
    dims broadcast. Computed directly for every compute_mode (torch's matmul form for p = 2
    differs from it in the last bits)."""
    _tensors("cdist", x1=x1, x2=x2)
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for arg, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise OpError(f"cdist only supports at least 2D tensors, {arg} got: {t.ndim}D")
        if t._array.dtype.kind != "f":
            raise OpError(f"cdist only supports floating-point dtypes, {arg} got: "
                          f"{t.dtype.name}")
    if x1.shape[-1] != x2.shape[-1]:
        raise OpError(f"cdist: X1 and X2 must have the same number of columns. X1: "
                      f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype != x2.dtype:
        raise OpError(f"cdist: expected both inputs to have the same dtype, got "
                      f"{x1.dtype.name} and {x2.dtype.name}")
    if x1._array.dtype.itemsize < 4:
        raise NotImplementedError(f"cdist: not implemented for {x1.dtype.name} (as in torch)")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not p >= 0:
        raise OpError(f"cdist only supports non-negative p values, got {p}")
    try:
        batch = tuple(np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2]))
    except ValueError:
        raise OpError(f"cdist: batch dims of X1 {list(x1.shape)} and X2 {list(x2.shape)} cannot "
                      "be broadcast together") from None
    x1 = x1.expand(*batch, *x1.shape[-2:]) if x1.shape[:-2] != batch else x1
    x2 = x2.expand(*batch, *x2.shape[-2:]) if x2.shape[:-2] != batch else x2
    return apply_op(Cdist, x1, x2, p=float(p))


# ---- the names torch has as Tensor methods and under torch.linalg --------------------------------
TENSOR_METHODS: dict[str, Callable] = {
    name: globals()[name] for name in ("mm", "bmm", "mv", "dot", "vdot", "inner", "outer",
                                       "ger", "addmm", "addmv", "addbmm", "baddbmm", "addr",
                                       "cross", "kron", "trace", "addmm_", "addmv_", "addbmm_",
                                       "baddbmm_", "addr_")}

LINALG: dict[str, Callable] = {"cross": linalg_cross, "multi_dot": multi_dot, "vecdot": vecdot}
