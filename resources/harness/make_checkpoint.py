#!/usr/bin/env python3
"""Build a random-weight SDXL single-file checkpoint with sd-scripts' own model code.

  make_checkpoint.py --sd-scripts DIR --out sdxl-random.safetensors [--device cuda]
  make_checkpoint.py --sd-scripts DIR --out sdxl-random.safetensors --device cpu --low-memory
  make_checkpoint.py --sd-scripts DIR --check-keys      (CPU: no weights, no file)

Memory and speed of training depend on the shapes and dtypes of the weights, not on their
values, so a checkpoint of the real SDXL shapes with random values measures the same as the real
one. The U-Net is sd-scripts' SdxlUNet2DConditionModel, the text encoders are transformers'
CLIPTextModel / CLIPTextModelWithProjection with the configurations sd-scripts' loader builds
(library/sdxl_model_util.py), the VAE is diffusers' AutoencoderKL with sd-scripts' VAE config.
sd-scripts' own save_stable_diffusion_checkpoint writes the file, so the key names are the ones
its loader reads. The file is saved in fp16 (about 6.9 GB) and reused when it already exists.

--low-memory keeps the peak near the file's size (about 7.5 GB instead of 21 GB): the models are built
in fp16 directly, and sd-scripts' saver (which then needs no fp16 copy) hands its state dict to a
writer that streams the safetensors file one tensor at a time instead of copying all of it to bytes
first. The file is the same format with the same keys. The peak (ru_maxrss) is printed at the end.

--check-keys builds the models on the meta device and runs sd-scripts' loader over the key names
and shapes that the saver would write, to catch a mismatch without a GPU or 14 GB of RAM.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

# The SDXL text encoders as sd-scripts' loader configures them (sdxl_model_util.py).
TE1 = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, hidden_act="quick_gelu", projection_dim=768)
TE2 = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20, hidden_act="gelu", projection_dim=1280)
COMMON = dict(
    vocab_size=49408,
    max_position_embeddings=77,
    layer_norm_eps=1e-05,
    dropout=0.0,
    attention_dropout=0.0,
    initializer_range=0.02,
    initializer_factor=1.0,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
    model_type="clip_text_model",
)
EXPECTED_UNET_PARAMS = 2_567_463_684


def build_models(device: str, dtype: Any = None) -> tuple[Any, Any, Any, Any]:
    import torch
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    sdxl_original_unet = importlib.import_module("library.sdxl_original_unet")
    model_util = importlib.import_module("library.model_util")
    default = torch.get_default_dtype()
    if dtype is not None:
        torch.set_default_dtype(dtype)  # parameters are created (and initialised) in this dtype
    try:
        with torch.device(device):
            unet = sdxl_original_unet.SdxlUNet2DConditionModel()
            te1 = CLIPTextModel._from_config(CLIPTextConfig(**COMMON, **TE1))
            te2 = CLIPTextModelWithProjection(CLIPTextConfig(**COMMON, **TE2))
            vae = AutoencoderKL(**model_util.create_vae_diffusers_config())
    finally:
        torch.set_default_dtype(default)
    n = sum(p.numel() for p in unet.parameters())
    if n != EXPECTED_UNET_PARAMS:
        raise SystemExit(f"U-Net has {n} parameters, expected {EXPECTED_UNET_PARAMS}: not the SDXL architecture.")
    return unet, te1, te2, vae


SAFETENSORS_DTYPES = {
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
    "float64": "F64",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}


def stream_save_file(tensors: dict[str, Any], filename: str, metadata: dict[str, str] | None = None) -> None:
    """safetensors.torch.save_file, one tensor at a time: the header (names, dtypes, shapes, offsets;
    padded to 8 bytes), then each tensor's bytes straight from its memory, never all of them at once."""
    import json

    import torch

    names = sorted(tensors)
    header: dict[str, Any] = {}
    offset = 0
    for name in names:
        t = tensors[name]
        size = t.numel() * t.element_size()
        header[name] = {
            "dtype": SAFETENSORS_DTYPES[str(t.dtype).split(".")[-1]],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(filename, "wb") as f:
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        for name in names:
            t = tensors[name].detach().to("cpu").contiguous()
            if t.numel():
                f.write(t.reshape(-1).view(torch.uint8).numpy().data)


def peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def check_keys() -> int:
    """Saver key names and shapes -> sd-scripts' loader, all on the meta device."""
    import torch

    sdxl_model_util = importlib.import_module("library.sdxl_model_util")
    model_util = importlib.import_module("library.model_util")
    unet, te1, te2, vae = build_models("meta")
    logit_scale = torch.empty((), device="meta")
    state: dict[str, Any] = {}
    for k, v in unet.state_dict().items():
        state["model.diffusion_model." + k] = v
    for k, v in te1.state_dict().items():
        state["conditioner.embedders.0.transformer." + k] = v
    for k, v in sdxl_model_util.convert_text_encoder_2_state_dict_to_sdxl(te2.state_dict(), logit_scale).items():
        state["conditioner.embedders.1.model." + k] = v
    for k, v in model_util.convert_vae_state_dict(vae.state_dict()).items():
        state["first_stage_model." + k] = v
    print(f"saver would write {len(state)} tensors")

    # Run the real loader with load_file returning our meta state dict and tensors kept on meta.
    sdxl_model_util.load_file = lambda *a, **k: dict(state)
    loaded = sdxl_model_util.load_models_from_sdxl_checkpoint("sdxl", "random.safetensors", "meta")
    te1_l, te2_l, vae_l, unet_l, _, _ = loaded
    problems = []
    for name, built, got in (("unet", unet, unet_l), ("te1", te1, te1_l), ("te2", te2, te2_l), ("vae", vae, vae_l)):
        a = {k: tuple(v.shape) for k, v in built.state_dict().items()}
        b = {k: tuple(v.shape) for k, v in got.state_dict().items()}
        if a != b:
            diff = sorted(set(a.items()) ^ set(b.items()))[:5]
            problems.append(f"{name}: loaded shapes differ from built ones, e.g. {diff}")
    for p in problems:
        print(p)
    print("check-keys:", "ok" if not problems else "FAILED")
    return 1 if problems else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sd-scripts", type=Path, required=True)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--check-keys", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--low-memory", action="store_true", help="fp16 models and a streaming writer (peak ~7.5 GB)")
    opts = ap.parse_args()
    sys.path.insert(0, str(opts.sd_scripts.resolve()))
    if opts.check_keys:
        return check_keys()
    if opts.out is None:
        ap.error("--out is required unless --check-keys")
    if opts.out.is_file() and opts.out.stat().st_size > 6_000_000_000:
        print(f"reusing {opts.out} ({opts.out.stat().st_size / 1e9:.2f} GB)")
        return 0

    import torch

    sdxl_model_util = importlib.import_module("library.sdxl_model_util")
    torch.manual_seed(opts.seed)
    t0 = time.time()
    unet, te1, te2, vae = build_models(opts.device, torch.float16 if opts.low_memory else None)
    # sd-scripts stores logit_scale with text encoder 2; CLIP's usual value is ln(100).
    logit_scale = torch.tensor(4.6052, device=opts.device, dtype=torch.float16 if opts.low_memory else None)
    print(f"built models on {opts.device} in {time.time() - t0:.1f}s (peak so far {peak_gb():.2f} GB)")
    tmp = opts.out.with_suffix(".partial.safetensors")
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    if opts.low_memory:
        # The models are fp16 already: no save_dtype, so the saver copies nothing; its file writer streams.
        sdxl_model_util.save_file = stream_save_file
    keys = sdxl_model_util.save_stable_diffusion_checkpoint(
        str(tmp),
        te1,
        te2,
        unet,
        0,
        0,
        None,
        vae,
        logit_scale,
        {"harness": "random SDXL weights"},
        None if opts.low_memory else torch.float16,
    )
    tmp.replace(opts.out)
    print(f"wrote {opts.out}: {keys} tensors, {opts.out.stat().st_size / 1e9:.2f} GB, {time.time() - t0:.1f}s")
    print(f"peak memory: {peak_gb():.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
