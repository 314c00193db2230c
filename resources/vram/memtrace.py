"""Counting the GPU memory of a training step without a GPU.

Models are built on PyTorch's meta device (shapes and dtypes, no data), and one training step runs
for real through their own code. Three pieces make the meta run behave, memory-wise, like the same
step on an NVIDIA GPU under CUDA:

- LiveBytes, a TorchDispatchMode below autograd, sees every tensor an op creates. It counts each
  storage once, when it appears, and forgets it when the storage is freed (weakref.finalize on the
  storage), rounded to the CUDA caching allocator's 512-byte blocks: so its running total is what
  torch.cuda.memory_allocated() would show, and its maximum is max_memory_allocated(). Every byte
  carries a tag (weights, gradients, activations...) so the peak comes with a breakdown.
- CUDA autocast, emulated: meta tensors have no AutocastCUDA dispatch key, so torch.autocast("cuda")
  would do nothing. AutocastMode (a TorchFunctionMode, above autograd like real autocast) applies
  CUDA's op lists from aten/src/ATen/autocast_mode.h: lower-precision ops (linear, conv, matmul...)
  cast their floating inputs to the autocast dtype, with the same cache of casts of fp32 leaf
  weights for the lifetime of the outermost autocast region; fp32 ops (norms, exp, losses...) cast
  to fp32; softmax/sum get dtype=float32. The casts are recorded by autograd, so what autograd saves
  for backward is what it saves on a GPU.
- Reentrant gradient checkpointing (what sd-scripts and transformers use), re-implemented here so
  that the recomputation in backward restores the emulated autocast state of the forward.

Attention kernels are stand-ins with the memory profile of the GPU kernel (attention_kernel):
flash / memory-efficient SDPA keep q, k, v, out and a log-sum-exp, never the attention matrix.

No CUDA, no GPU, no weights: this runs on any CPU with torch >= 2.1.
"""

from __future__ import annotations

import contextlib
import math
import sys
import types
import weakref
from collections import defaultdict
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

aten = torch.ops.aten

# The CUDA caching allocator hands out blocks in multiples of 512 bytes (kMinBlockSize);
# memory_allocated() counts block sizes.
BLOCK = 512


def block_bytes(n: int) -> int:
    return 0 if n <= 0 else ((n + BLOCK - 1) // BLOCK) * BLOCK


# ---------------------------------------------------------------------------------------------
# Live storage bytes
# ---------------------------------------------------------------------------------------------

# Ops whose output is known to be all zeros / all false (so `.any()` on it is False): a zero-initialised
# LoRA up-weight and Prodigy's `p.any()` test, or sd-scripts' NaN check on latents. The marks are kept
# per storage across trackers (a network is built under one, trained under another); a storage seen
# for the first time loses any stale mark of a freed storage at the same address.
ZERO: set[int] = set()
_ZERO_MAKERS = {"zeros", "zeros_like", "new_zeros", "zero_", "isnan", "isinf"}
_ZERO_KEEPERS = {"any", "abs", "sum", "clone", "detach", "alias", "view", "_to_copy"}


# Ops whose outputs depend on more than their inputs' metadata, or that have effects.
_UNCACHED = {"_local_scalar_dense", "nonzero", "masked_select", "unique", "_unique2", "item", "_to_copy", "copy"}


def _functional(func: Any) -> bool:
    """True when the op returns fresh tensors (no aliases) and mutates none of its arguments."""
    try:
        schema = func._schema
    except AttributeError:
        return False
    if _opname(func) in _UNCACHED or schema.is_mutable:
        return False
    if any(r.alias_info is not None for r in schema.returns):
        return False
    return all(str(r.type) == "Tensor" for r in schema.returns) and len(schema.returns) > 0


def _sig(x: Any) -> Any:
    """A hashable description of an argument: tensors by layout, containers recursively, values as is."""
    if isinstance(x, torch.Tensor):
        return ("T", tuple(x.shape), tuple(x.stride()), x.dtype, x.device.type, x.storage_offset())
    if isinstance(x, (list, tuple)):
        return tuple(_sig(v) for v in x)
    return x


def _opname(func: Any) -> str:
    name = getattr(func, "__name__", "") or ""
    # OpOverload names look like "zeros_like.default"
    return name.split(".")[0]


class LiveBytes(TorchDispatchMode):
    """Counts the bytes of live meta-device storages, by tag, with the peak and the phase it happened in."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, list[Any]] = {}  # storage key -> [bytes, tag]
        self.by_tag: dict[str, int] = defaultdict(int)
        self.total = 0
        self.peak = 0
        self.peak_phase = "setup"
        self.peak_by_tag: dict[str, int] = {}
        self.phase_peaks: dict[str, dict[str, Any]] = {}
        self.phase = "setup"
        self.tag = "activations"
        self.ops = 0
        self.ops_by_phase: dict[str, int] = defaultdict(int)
        self._cacheable: dict[Any, bool] = {}
        self._meta_cache: dict[Any, Any] = {}

    # -- bookkeeping ----------------------------------------------------------------------------
    @staticmethod
    def _key(t: torch.Tensor) -> tuple[int, Any] | None:
        if not isinstance(t, torch.Tensor) or t.device.type != "meta":
            return None
        st = t.untyped_storage()
        return st._cdata, st

    def register(self, t: torch.Tensor | None, tag: str) -> None:
        """Count a tensor that existed before tracing (weights), or retag one that is already counted."""
        if t is None:
            return
        k = self._key(t)
        if k is None:
            return
        key, st = k
        entry = self.live.get(key)
        if entry is None:
            self._add(key, st, tag)
        elif entry[1] != tag:
            self.by_tag[entry[1]] -= entry[0]
            entry[1] = tag
            self.by_tag[tag] += entry[0]

    retag = register

    def _add(self, key: int, st: Any, tag: str) -> None:
        n = block_bytes(st.nbytes())
        self.live[key] = [n, tag]
        self.by_tag[tag] += n
        self.total += n
        weakref.finalize(st, self._free, key)
        if self.total > self.peak:
            self.peak = self.total
            self.peak_phase = self.phase
            self.peak_by_tag = {k: v for k, v in self.by_tag.items() if v > 0}
        pp = self.phase_peaks.get(self.phase)
        if pp is None or self.total > pp["bytes"]:
            self.phase_peaks[self.phase] = {
                "bytes": self.total,
                "by_tag": {k: v for k, v in self.by_tag.items() if v > 0},
            }

    def _free(self, key: int) -> None:
        entry = self.live.pop(key, None)
        ZERO.discard(key)
        if entry is not None:
            self.total -= entry[0]
            self.by_tag[entry[1]] -= entry[0]

    @contextlib.contextmanager
    def _setting(self, attr: str, value: str) -> Iterator[None]:
        old = getattr(self, attr)
        setattr(self, attr, value)
        try:
            yield
        finally:
            setattr(self, attr, old)

    def in_phase(self, phase: str) -> contextlib.AbstractContextManager[None]:
        """Allocations inside count for this phase of the step (the peak reports the phase it is in)."""
        return self._setting("phase", phase)

    def tagging(self, tag: str) -> contextlib.AbstractContextManager[None]:
        """Allocations inside carry this tag (e.g. 'optimizer_step') unless retagged later."""
        return self._setting("tag", tag)

    def reset_peak(self) -> None:
        """Start the peak over from what is live now (after setting up, e.g. the optimizer's state)."""
        self.peak = self.total
        self.peak_phase = self.phase
        self.peak_by_tag = {k: v for k, v in self.by_tag.items() if v > 0}
        self.phase_peaks = {}

    def snapshot(self) -> dict[str, Any]:
        return {"bytes": self.total, "by_tag": {k: v for k, v in self.by_tag.items() if v > 0}}

    # -- dispatch ---------------------------------------------------------------------------------
    def _is_zero(self, t: Any) -> bool:
        return isinstance(t, torch.Tensor) and t.device.type == "meta" and t.untyped_storage()._cdata in ZERO

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: A002 (torch's signature)
        kwargs = kwargs or {}
        self.ops += 1
        self.ops_by_phase[self.phase] += 1
        name = _opname(func)
        first = args[0] if args else None
        if func is aten._local_scalar_dense.default and isinstance(first, torch.Tensor) and first.device.type == "meta":
            return self._scalar(first)
        meta_first = isinstance(first, torch.Tensor) and first.device.type == "meta"
        # Meta tensors have no data: a copy to the CPU (e.g. `.cpu()` of a loss) becomes zeros there.
        if name == "_to_copy" and meta_first:
            dev = kwargs.get("device")
            if dev is not None and torch.device(dev).type != "meta":
                return torch.zeros(first.shape, dtype=kwargs.get("dtype") or first.dtype, device=dev)
        if name == "copy_" and isinstance(first, torch.Tensor) and not meta_first:
            return first
        out = self._run(func, args, kwargs)
        if isinstance(out, torch.Tensor):
            outs: Any = (out,)
        elif isinstance(out, (tuple, list)):
            outs = out
        else:
            outs = tree_flatten(out)[0]
        zero_out = (
            name in _ZERO_MAKERS
            or (name in _ZERO_KEEPERS and bool(ZERO) and self._is_zero(first))
            # nn.init.constant_(t, 0) (LyCORIS' zero-initialised factors)
            or (name == "fill_" and len(args) > 1 and not isinstance(args[1], torch.Tensor) and args[1] == 0)
        )
        for t in outs:
            if not isinstance(t, torch.Tensor) or t.device.type != "meta":
                continue
            st = t.untyped_storage()
            key = st._cdata
            if key not in self.live:
                ZERO.discard(key)
                self._add(key, st, self.tag)
            if zero_out:
                ZERO.add(key)
        # An in-place op on a known-zero tensor makes it unknown (e.g. an optimizer update).
        if ZERO and name.endswith("_") and name not in _ZERO_MAKERS and not zero_out and meta_first:
            ZERO.discard(first.untyped_storage()._cdata)
        return out

    # -- a cache of output metadata ---------------------------------------------------------------
    # SDXL repeats the same blocks with the same shapes dozens of times; the meta kernels (many of them
    # Python decompositions) cost far more than the bookkeeping. An op that returns fresh tensors and
    # mutates nothing is a function of its inputs' metadata, so its outputs' shapes, strides and dtypes
    # are remembered and new empty tensors of that layout are made on a repeat (FakeTensor's cache does
    # the same).
    def _run(self, func: Any, args: tuple, kwargs: dict) -> Any:
        ok = self._cacheable.get(func)
        if ok is None:
            ok = self._cacheable[func] = _functional(func)
        if not ok:
            return func(*args, **kwargs)
        try:
            key = (func, _sig(args), _sig(tuple(sorted(kwargs.items()))))
            hash(key)
        except TypeError:
            return func(*args, **kwargs)
        hit = self._meta_cache.get(key)
        if hit is not None:
            made = [torch.empty_strided(sh, st, dtype=dt, device="meta") for sh, st, dt in hit[1]]
            return made[0] if hit[0] else tuple(made)
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            outs, single = (out,), True
        elif isinstance(out, tuple) and out and all(isinstance(o, torch.Tensor) for o in out):
            outs, single = out, False
        else:
            return out
        if all(o.device.type == "meta" and o.storage_offset() == 0 for o in outs):
            self._meta_cache[key] = (single, [(tuple(o.shape), tuple(o.stride()), o.dtype) for o in outs])
        return out

    def _scalar(self, t: torch.Tensor) -> Any:
        """`.item()` of a meta tensor: a plausible value (all-zero tensors give 0 / False, others 1)."""
        zero = self._is_zero(t)
        if t.dtype == torch.bool:
            return not zero
        if t.is_floating_point():
            return 0.0 if zero else 1.0
        return 0 if zero else 1

    def result(self) -> dict[str, Any]:
        return {
            "peak_bytes": self.peak,
            "peak_phase": self.peak_phase,
            "peak_by_tag": dict(self.peak_by_tag),
            "phases": {k: dict(v) for k, v in self.phase_peaks.items()},
            "end_bytes": self.total,
            "ops": self.ops,
            "ops_by_phase": dict(self.ops_by_phase),
        }


# ---------------------------------------------------------------------------------------------
# CUDA autocast, emulated
# ---------------------------------------------------------------------------------------------

# CUDA op lists (aten/src/ATen/autocast_mode.h, AT_FORALL_LOWER_PRECISION_FP / AT_FORALL_FP32 /
# AT_FORALL_FP32_SET_OPT_DTYPE / AT_FORALL_PROMOTE), by the name the Python API calls them.
LOWER = {
    "_convolution", "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "convolution", "prelu", "addmm", "addmv", "addr", "matmul", "__matmul__",
    "__rmatmul__", "einsum", "mm", "mv", "linalg_vecdot", "linear", "addbmm", "baddbmm", "bmm",
    "chain_matmul", "linalg_multi_dot", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
    "_scaled_dot_product_flash_attention", "scaled_dot_product_attention",
}  # fmt: skip
FP32 = {
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
    "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__", "softplus", "layer_norm", "native_layer_norm",
    "group_norm", "frobenius_norm", "nuclear_norm", "cosine_similarity", "poisson_nll_loss",
    "cosine_embedding_loss", "nll_loss", "nll_loss2d", "hinge_embedding_loss", "kl_div", "l1_loss",
    "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss", "multilabel_margin_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "binary_cross_entropy_with_logits",
    "dist", "pdist", "cdist", "renorm", "logsumexp", "interpolate", "upsample", "upsample_nearest1d",
    "upsample_nearest2d", "upsample_nearest3d", "upsample_linear1d", "upsample_bilinear2d",
    "upsample_trilinear3d", "upsample_bicubic2d",
}  # fmt: skip
FP32_SET_DTYPE = {"prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm", "linalg_matrix_norm", "sum"}
PROMOTE = {"addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sampler", "index_put", "tensordot", "scatter_add"}


class _AutocastState:
    """The emulated torch.autocast("cuda") state: a stack of (enabled, dtype, cache) and the cast cache."""

    def __init__(self) -> None:
        self.stack: list[tuple[bool, torch.dtype, bool]] = []
        self.cache: dict[int, tuple[Any, torch.Tensor]] = {}
        self.tracker: LiveBytes | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.stack) and self.stack[-1][0]

    @property
    def dtype(self) -> torch.dtype:
        return self.stack[-1][1] if self.stack else torch.float16

    @property
    def cache_enabled(self) -> bool:
        return self.stack[-1][2] if self.stack else True

    def push(self, enabled: bool, dtype: torch.dtype, cache_enabled: bool = True) -> None:
        # The function mode is active only inside autocast regions: outside them every call runs as is,
        # without the cost of a Python hook per torch call.
        if not self.stack:
            _MODE.__enter__()
        self.stack.append((enabled, dtype, cache_enabled))

    def pop(self) -> None:
        self.stack.pop()
        # Like torch.autocast.__exit__: leaving the outermost region frees the cached casts.
        if not self.stack:
            self.cache.clear()
            _MODE.__exit__(None, None, None)


STATE = _AutocastState()


class autocast(contextlib.ContextDecorator):
    """torch.autocast for device_type "cuda", emulated on meta tensors; other devices use the real one."""

    def __init__(self, device_type: str = "cuda", dtype: torch.dtype | None = None, enabled: bool = True, cache_enabled: bool | None = None):
        self.device_type = device_type
        self.dtype = dtype if dtype is not None else torch.float16
        self.enabled = enabled
        self.cache_enabled = True if cache_enabled is None else cache_enabled
        self._real: Any = None

    def __enter__(self):
        if self.device_type != "cuda":
            self._real = _REAL_AUTOCAST(self.device_type, dtype=self.dtype, enabled=self.enabled)
            return self._real.__enter__()
        STATE.push(self.enabled, self.dtype, self.cache_enabled)
        return self

    def __exit__(self, *exc):
        if self._real is not None:
            r = self._real.__exit__(*exc)
            self._real = None
            return r
        STATE.pop()
        return False


_REAL_AUTOCAST = torch.autocast


def _gpu_float(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.device.type == "meta" and t.is_floating_point() and t.dtype != torch.float64


def _cast(t: Any, dtype: torch.dtype, allow_cache: bool) -> Any:
    if not _gpu_float(t) or t.dtype == dtype:
        return t
    tracker = STATE.tracker
    cacheable = (
        allow_cache
        and STATE.cache_enabled
        and t.dtype == torch.float32
        and t.requires_grad
        and t.is_leaf
        and t._base is None
    )
    if cacheable:
        hit = STATE.cache.get(id(t))
        if hit is not None and hit[0]() is t:
            return hit[1]
    # Casts of weights (parameters) get their own tags; casts of activations, also of the detached leaf
    # inputs of a checkpointed block, count as activations.
    tag = ("fp8_copies" if t.dtype in _FP8 else "autocast_copies") if isinstance(t, torch.nn.Parameter) else None
    if tracker is not None and tag is not None:
        with tracker.tagging(tag):
            out = t.to(dtype)
    else:
        out = t.to(dtype)
    if cacheable:
        STATE.cache[id(t)] = (weakref.ref(t), out)
    return out


_FP8 = {getattr(torch, n) for n in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, n)}


def _widest(args: list[Any]) -> torch.dtype | None:
    best: torch.dtype | None = None
    for a in args:
        if _gpu_float(a):
            if best is None or torch.promote_types(best, a.dtype) != best:
                best = a.dtype if best is None else torch.promote_types(best, a.dtype)
    return best


class AutocastMode(TorchFunctionMode):
    """Applies the emulated CUDA autocast policy to every torch call while STATE says it is enabled."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: A002
        kwargs = kwargs or {}
        if not STATE.enabled:
            return func(*args, **kwargs)
        name = _opname(func)
        if name in LOWER:
            dt = STATE.dtype
            args = tree_map(lambda a: _cast(a, dt, True), args)
            kwargs = tree_map(lambda a: _cast(a, dt, True), kwargs)
        elif name in FP32:
            args = tree_map(lambda a: _cast(a, torch.float32, False), args)
            kwargs = tree_map(lambda a: _cast(a, torch.float32, False), kwargs)
        elif name in FP32_SET_DTYPE:
            first = args[0] if args else None
            if _gpu_float(first) and first.dtype != torch.float32 and kwargs.get("dtype") is None and not _has_positional_dtype(name, args):
                kwargs = dict(kwargs, dtype=torch.float32)
        elif name in PROMOTE:
            flat = tree_flatten((args, kwargs))[0]
            wide = _widest(flat)
            if wide is not None:
                args = tree_map(lambda a: _cast(a, wide, False), args)
                kwargs = tree_map(lambda a: _cast(a, wide, False), kwargs)
        return func(*args, **kwargs)


_MODE = AutocastMode()


def _has_positional_dtype(name: str, args: tuple) -> bool:
    # softmax(input, dim, dtype) / sum(input, dim, keepdim, dtype): a dtype passed positionally.
    return any(isinstance(a, torch.dtype) for a in args)


def is_autocast_enabled(device_type: str | None = None) -> bool:
    if device_type in (None, "cuda"):
        return STATE.enabled
    return _REAL_IS_AUTOCAST_ENABLED(device_type)


_REAL_IS_AUTOCAST_ENABLED = torch.is_autocast_enabled


# ---------------------------------------------------------------------------------------------
# Reentrant gradient checkpointing that restores the emulated autocast state
# ---------------------------------------------------------------------------------------------


class _Checkpoint(torch.autograd.Function):
    """torch.utils.checkpoint's CheckpointFunction (use_reentrant=True), memory-for-memory."""

    @staticmethod
    def forward(ctx, run_function, autocast_state, *args):  # type: ignore[override]
        ctx.run_function = run_function
        ctx.autocast_state = autocast_state
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for i, arg in enumerate(args):
            if torch.is_tensor(arg):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with torch.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):  # type: ignore[override]
        inputs = list(ctx.inputs)
        for i, idx in enumerate(ctx.tensor_indices):
            inputs[idx] = ctx.saved_tensors[i]
        detached = []
        for inp in inputs:
            if isinstance(inp, torch.Tensor):
                x = inp.detach()
                x.requires_grad = inp.requires_grad
                detached.append(x)
            else:
                detached.append(inp)
        enabled, dtype, cache = ctx.autocast_state
        with torch.enable_grad(), autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache):
            outputs = ctx.run_function(*detached)
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        with_grad, grads = [], []
        for o, g in zip(outputs, grad_outputs):
            if torch.is_tensor(o) and o.requires_grad:
                with_grad.append(o)
                grads.append(g)
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        torch.autograd.backward(with_grad, grads)
        return (None, None) + tuple(x.grad if isinstance(x, torch.Tensor) else None for x in detached)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Drop-in for torch.utils.checkpoint.checkpoint (reentrant variant for every call)."""
    for k in ("preserve_rng_state", "context_fn", "determinism_check", "debug"):
        kwargs.pop(k, None)
    if kwargs:
        # Non-reentrant extras (keyword arguments of the function): bind them.
        fn, kw = function, dict(kwargs)
        function = lambda *a: fn(*a, **kw)  # noqa: E731
    state = (STATE.enabled, STATE.dtype, STATE.cache_enabled)
    return _Checkpoint.apply(function, state, *args)


# ---------------------------------------------------------------------------------------------
# Attention stand-ins
# ---------------------------------------------------------------------------------------------


class AttentionKernel:
    """Which kernel a CUDA GPU would run for F.scaled_dot_product_attention / xformers."""

    def __init__(self, kind: str = "flash") -> None:
        # "flash": FlashAttention-2 where it applies (half precision, no mask), else memory-efficient;
        # "efficient": the memory-efficient kernel always; "math": the plain composite.
        self.kind = kind


KERNEL = AttentionKernel()


def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """F.scaled_dot_product_attention with the memory profile of the CUDA kernel (not the meta math path)."""
    if STATE.enabled:
        dt = STATE.dtype
        query, key, value = (_cast(t, dt, True) for t in (query, key, value))
        if attn_mask is not None and attn_mask.is_floating_point():
            attn_mask = _cast(attn_mask, dt, False)
    if KERNEL.kind == "math" or enable_gqa:
        return _REAL_SDPA(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale)
    half = query.dtype in (torch.float16, torch.bfloat16)
    need_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value))
    if KERNEL.kind == "flash" and half and attn_mask is None and query.shape[-1] <= 256:
        out = aten._scaled_dot_product_flash_attention(query, key, value, dropout_p, is_causal, need_grad, scale=scale)
        return out[0]
    bias = attn_mask
    if bias is not None and bias.dtype == torch.bool:
        bias = torch.zeros(bias.shape, dtype=query.dtype, device=query.device).masked_fill_(~bias, float("-inf"))
    out = aten._scaled_dot_product_efficient_attention(query, key, value, bias, need_grad, dropout_p, is_causal, scale=scale)
    return out[0]


_REAL_SDPA = F.scaled_dot_product_attention


def xformers_attention(query, key, value, attn_bias=None, p=0.0, scale=None, **_: Any):
    """xformers.ops.memory_efficient_attention ((B, M, H, K) or (B, M, K)) as the memory-efficient kernel."""
    three_d = query.dim() == 3
    if three_d:
        query, key, value = (t.unsqueeze(2) for t in (query, key, value))
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))
    out = sdpa(q, k, v, attn_mask=attn_bias if isinstance(attn_bias, torch.Tensor) else None, dropout_p=p, scale=scale)
    out = out.transpose(1, 2)
    return out.squeeze(2) if three_d else out


def xformers_stub() -> types.ModuleType:
    """A minimal `xformers` / `xformers.ops` for code that imports it when --xformers is set."""
    import importlib.machinery

    xf = types.ModuleType("xformers")
    ops = types.ModuleType("xformers.ops")
    xf.__spec__ = importlib.machinery.ModuleSpec("xformers", None)
    ops.__spec__ = importlib.machinery.ModuleSpec("xformers.ops", None)
    ops.memory_efficient_attention = xformers_attention  # type: ignore[attr-defined]
    xf.ops = ops  # type: ignore[attr-defined]
    xf.__version__ = "stand-in"  # type: ignore[attr-defined]
    return xf


# ---------------------------------------------------------------------------------------------
# Building models on the meta device
# ---------------------------------------------------------------------------------------------


class MetaFactories(TorchFunctionMode):
    """Like `with torch.device("meta")`, except torch.tensor(data): tensors made from Python values stay
    on the CPU with their values, because model code computes shapes from them (LyCORIS' LoHa uses
    `torch.tensor(kernel_size).prod().item()`). Move the built model to meta afterwards."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: A002
        kwargs = kwargs or {}
        if func in _FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def _factories() -> set[Any]:
    from torch.utils._device import _device_constructors

    return set(_device_constructors()) - {torch.tensor, torch.as_tensor, getattr(torch, "asarray", None)}


_FACTORIES = _factories()


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def emulation(kernel: str = "flash") -> Iterator[None]:
    """Patches torch so that code written for CUDA runs its memory behaviour on meta tensors."""
    KERNEL.kind = kernel
    saved: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, name: str, value: Any) -> None:
        if obj is None or not hasattr(obj, name):
            return
        saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    import torch.utils.checkpoint as tuc

    patch(torch, "autocast", autocast)
    patch(torch.amp, "autocast", autocast)
    patch(torch.cuda.amp, "autocast", lambda enabled=True, dtype=torch.float16, cache_enabled=True: autocast("cuda", dtype, enabled, cache_enabled))
    patch(torch, "is_autocast_enabled", is_autocast_enabled)
    patch(tuc, "checkpoint", checkpoint)
    patch(F, "scaled_dot_product_attention", sdpa)
    tm = sys.modules.get("transformers.modeling_utils")
    if tm is not None:
        patch(tm, "checkpoint", checkpoint)
    had_xf = "xformers" in sys.modules
    old_xf = (sys.modules.get("xformers"), sys.modules.get("xformers.ops"))
    stub = xformers_stub()
    sys.modules["xformers"] = stub
    sys.modules["xformers.ops"] = stub.ops  # type: ignore[attr-defined]
    try:
        yield
    finally:
        while STATE.stack:
            STATE.pop()
        for obj, name, value in reversed(saved):
            setattr(obj, name, value)
        if had_xf:
            sys.modules["xformers"], sys.modules["xformers.ops"] = old_xf  # type: ignore[assignment]
        else:
            sys.modules.pop("xformers", None)
            sys.modules.pop("xformers.ops", None)


@contextlib.contextmanager
def counting(tracker: LiveBytes) -> Iterator[LiveBytes]:
    STATE.tracker = tracker
    try:
        with tracker:
            yield tracker
    finally:
        STATE.tracker = None


def register_module(tracker: LiveBytes, module: torch.nn.Module, tag: str) -> None:
    for p in module.parameters():
        tracker.register(p, tag)
    for b in module.buffers():
        tracker.register(b, tag)


def tag_gradients(tracker: LiveBytes, params: Any) -> None:
    """Counts each parameter's .grad as 'gradients' once autograd has accumulated it."""
    for p in params:
        if p.requires_grad:
            p.register_post_accumulate_grad_hook(lambda t: tracker.retag(t.grad, "gradients"))


def gib(n: float) -> float:
    return n / 1024**3


def fmt_tags(by_tag: dict[str, int]) -> dict[str, float]:
    return {k: round(gib(v), 4) for k, v in sorted(by_tag.items(), key=lambda kv: -kv[1]) if v > 0}


__all__ = [
    "LiveBytes",
    "AutocastMode",
    "autocast",
    "checkpoint",
    "sdpa",
    "emulation",
    "counting",
    "register_module",
    "MetaFactories",
    "tag_gradients",
    "block_bytes",
    "gib",
    "fmt_tags",
    "math",
]
