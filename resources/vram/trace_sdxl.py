#!/usr/bin/env python3
"""Peak GPU memory of one SDXL training step of kohya-ss/sd-scripts v0.10.1, traced on the meta device.

  trace_sdxl.py --sd-scripts DIR --jobs jobs.json [--kernel flash|efficient]

jobs.json holds one job or a list of jobs. A job is what SDXL Studio renders for a training config:
  {"id": "...", "script": "sdxl_train_network" | "sdxl_train",
   "config_toml": "<the --config_file TOML sd-scripts would read, as text>",
   "resolution": {"width": 1024, "height": 1024}, "batch_size": 1}

The models are the ones sd-scripts builds (its own SdxlUNet2DConditionModel, transformers' CLIP text
encoders with sd-scripts' configs, diffusers' AutoencoderKL with sd-scripts' VAE config), placed and
cast as its training scripts do for these arguments (read by its own parser from the same TOML), on
the meta device. The network comes from the config's network module (networks.lora / lycoris.kohya)
and the optimizer from sd-scripts' own get_optimizer. The LoRA step runs sd-scripts' own
NetworkTrainer.process_batch; the Dreambooth step (sdxl_train.py, whose loop is inline) is mirrored
below line for line, with its fused backward pass and fused optimizer groups. The optimizer's state
exists before the traced step (as from the second step on). With gradient accumulation two micro
batches run before the optimizer step. memtrace.py counts the bytes.

One JSON line per job on stdout: {"id", "ok": true, "allocated_peak_gib", "phase", "breakdown",
"phases", "trainable_params", "seconds"} or {"id", "ok": false, "error"}.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# sd-scripts' strategies want the CLIP tokenizers only for their lengths and token ids.
TOKENIZER = SimpleNamespace(model_max_length=77, eos_token_id=49407, pad_token_id=49407)
TOKENIZER2 = SimpleNamespace(model_max_length=77, eos_token_id=49407, pad_token_id=0)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class FakeAccelerator:
    """What sd-scripts' step code asks of accelerate's Accelerator, for one process on the meta device."""

    def __init__(self, torch: Any, mt: Any, mixed_precision: str) -> None:
        self.torch = torch
        self.mt = mt
        self.device = torch.device("meta")
        self.mixed_precision = mixed_precision
        self.sync_gradients = True
        self.is_main_process = True
        self.is_local_main_process = True
        self.num_processes = 1
        self.scale = 65536.0 if mixed_precision == "fp16" else None

    def autocast(self, *a: Any, **k: Any):
        # accelerate's native AMP: torch.autocast(device, dtype) when mixed precision is fp16/bf16.
        if self.mixed_precision == "no":
            return contextlib.nullcontext()
        dtype = self.torch.float16 if self.mixed_precision == "fp16" else self.torch.bfloat16
        return self.mt.autocast("cuda", dtype=dtype)

    def unwrap_model(self, m: Any) -> Any:
        return m

    def print(self, *a: Any, **k: Any) -> None:
        pass

    def wait_for_everyone(self) -> None:
        pass

    def backward(self, loss: Any) -> None:
        # fp16: GradScaler scales the loss (one multiply) before backward.
        if self.scale is not None:
            loss = loss * self.scale
        loss.backward()

    def clip_grad_norm_(self, params: Any, max_norm: float) -> Any:
        return self.torch.nn.utils.clip_grad_norm_(params, max_norm)


def prepare_model(torch: Any, mt: Any, model: Any, mixed_precision: str) -> Any:
    """accelerator.prepare(model) under native AMP: forward runs in autocast and returns fp32 outputs."""
    if mixed_precision == "no":
        return model
    from accelerate.utils import convert_outputs_to_fp32

    dtype = torch.float16 if mixed_precision == "fp16" else torch.bfloat16
    forward = model.forward

    def wrapped(*a: Any, **k: Any) -> Any:
        with mt.autocast("cuda", dtype=dtype):
            return forward(*a, **k)

    model.forward = convert_outputs_to_fp32(wrapped)
    return model


def build_models(torch: Any, mt: Any, model_dtype: Any) -> tuple[Any, Any, Any, Any]:
    """sdxl_model_util.load_models_from_sdxl_checkpoint's models, with no weights (fp32 unless full_fp16/bf16)."""
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    sdxl_original_unet = importlib.import_module("library.sdxl_original_unet")
    model_util = importlib.import_module("library.model_util")
    common = dict(
        vocab_size=49408, max_position_embeddings=77, layer_norm_eps=1e-05, dropout=0.0, attention_dropout=0.0,
        initializer_range=0.02, initializer_factor=1.0, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        model_type="clip_text_model",
    )  # fmt: skip
    te1_cfg = CLIPTextConfig(
        **common, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        hidden_act="quick_gelu", projection_dim=768,
    )  # fmt: skip
    te2_cfg = CLIPTextConfig(
        **common, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
        hidden_act="gelu", projection_dim=1280,
    )  # fmt: skip
    with mt.MetaFactories():
        unet = sdxl_original_unet.SdxlUNet2DConditionModel()
        te1 = CLIPTextModel._from_config(te1_cfg)
        te2 = CLIPTextModelWithProjection(te2_cfg)
        vae = AutoencoderKL(**model_util.create_vae_diffusers_config())
    for m in (unet, te1, te2, vae):
        m.to("meta")
    if model_dtype is not None:
        unet.to(model_dtype)
        vae.to(model_dtype)
    return unet, te1, te2, vae


def read_args(script_module: Any, train_util: Any, config_file: str) -> Any:
    """The arguments exactly as `python <script>.py --config_file <file>` reads them."""
    parser = script_module.setup_parser()
    argv = sys.argv
    sys.argv = [f"{script_module.__name__}.py", "--config_file", config_file]
    try:
        args = parser.parse_args()
        return train_util.read_config_from_file(args, parser)
    finally:
        sys.argv = argv


def make_batch(torch: Any, args: Any, b: int, width: int, height: int, cached_latents: bool, cached_te: bool, weight_dtype: Any) -> dict[str, Any]:
    """One batch as sd-scripts' DatasetGroup + collator make it, moved to the device like accelerate does."""
    meta = torch.device("meta")
    n = 1 if not args.max_token_length else args.max_token_length // 75
    batch: dict[str, Any] = {
        "loss_weights": torch.ones(b, device=meta),
        "captions": ["a photo"] * b,
        "original_sizes_hw": torch.full((b, 2), height, dtype=torch.long, device=meta),
        "crop_top_lefts": torch.zeros((b, 2), dtype=torch.long, device=meta),
        "target_sizes_hw": torch.full((b, 2), height, dtype=torch.long, device=meta),
        "network_multipliers": torch.ones(b, device=meta),
        "input_ids_list": [
            torch.zeros((b, n, 77), dtype=torch.long, device=meta),
            torch.zeros((b, n, 77), dtype=torch.long, device=meta),
        ],
        "alpha_masks": None,
        "images": None,
        "latents": None,
        "text_encoder_outputs_list": None,
    }
    if cached_latents:
        batch["latents"] = torch.empty((b, 4, height // 8, width // 8), device=meta)
    else:
        batch["images"] = torch.empty((b, 3, height, width), device=meta)
    if cached_te:
        length = 77 if n == 1 else 75 * n + 2
        batch["text_encoder_outputs_list"] = [
            torch.empty((b, length, 768), device=meta),
            torch.empty((b, length, 1280), device=meta),
            torch.empty((b, 1280), device=meta),
        ]
    return batch


def trainable_count(params: Any) -> int:
    return sum(p.numel() for p in params)


def make_optimizer(train_util: Any, args: Any, params: Any) -> Any:
    """sd-scripts' get_optimizer, put in train mode as its training loop does (schedule-free optimizers)."""
    import torch

    _, _, optimizer = train_util.get_optimizer(args, params)
    # bitsandbytes' paged optimizers put large states in CUDA managed memory; here they are plain device
    # tensors (the same bytes while resident on the GPU; the driver may move them to system memory).
    if getattr(optimizer, "is_paged", False):
        optimizer.is_paged = False
    # torch's optimizers default to the foreach implementation when every parameter is on CUDA (and to a
    # per-tensor loop elsewhere, meta included): ask for what a GPU run gets.
    if isinstance(optimizer, torch.optim.Optimizer) and "foreach" in optimizer.defaults:
        for group in optimizer.param_groups:
            if group.get("foreach") is None and not group.get("fused") and not group.get("differentiable"):
                group["foreach"] = True
    train_fn, _ = train_util.get_optimizer_train_eval_fn(optimizer, args)
    train_fn()
    return optimizer


def init_optimizer_state(torch: Any, tracker: Any, optimizers: list[Any], params: list[Any], others: list[Any]) -> None:
    """The steady state of the second step on: the optimizer's state exists (one step on zero gradients),
    and parameters that require grad but are in no optimizer (text-encoder embeddings under sd-scripts'
    checkpointing workaround, modules with a zero learning rate) hold the gradients they accumulate,
    since zero_grad() never clears them."""
    with tracker.tagging("gradients"):
        for p in params:
            p.grad = torch.zeros_like(p)
        for p in others:
            p.grad = torch.zeros_like(p)
    for opt in optimizers:
        with tracker.tagging("optimizer_step"):
            opt.step()
    for p in params:
        p.grad = None
    for opt in optimizers:
        for st in opt.state.values():
            for v in st.values():
                if isinstance(v, torch.Tensor):
                    tracker.retag(v, "optimizer_state")
    tracker.reset_peak()


def trace_network(job: dict[str, Any], torch: Any, mt: Any) -> dict[str, Any]:
    """sdxl_train_network.py: networks.lora or lycoris.kohya on a frozen SDXL."""
    sdxl_train_network = importlib.import_module("sdxl_train_network")
    train_util = importlib.import_module("library.train_util")
    strategy_sdxl = importlib.import_module("library.strategy_sdxl")

    args = read_args(sdxl_train_network, train_util, job["config_file"])
    trainer = sdxl_train_network.SdxlNetworkTrainer()
    weight_dtype, _ = train_util.prepare_dtype(args)
    vae_dtype = torch.float32 if args.no_half_vae else weight_dtype
    cache_latents = bool(args.cache_latents or args.cache_latents_to_disk)
    cache_te = bool(args.cache_text_encoder_outputs or args.cache_text_encoder_outputs_to_disk)
    sdxl_train_util = importlib.import_module("library.sdxl_train_util")
    model_dtype = sdxl_train_util.match_mixed_precision(args, weight_dtype)
    unet, te1, te2, vae = build_models(torch, mt, model_dtype)
    train_util.replace_unet_modules(unet, args.mem_eff_attn, args.xformers, args.sdpa)
    text_encoders = [te1, te2]
    accelerator = FakeAccelerator(torch, mt, args.mixed_precision)

    tokenize_strategy = SimpleNamespace(tokenizer1=TOKENIZER, tokenizer2=TOKENIZER2, max_length=77)
    text_encoding_strategy = strategy_sdxl.SdxlTextEncodingStrategy()
    # cache_text_encoder_outputs_if_needed: cached outputs leave the TEs on the CPU in fp32, else on the GPU.
    te_on_gpu = not cache_te
    if te_on_gpu:
        for t in text_encoders:
            t.to(dtype=weight_dtype)

    network_module = importlib.import_module(args.network_module)
    net_kwargs: dict[str, Any] = {}
    for net_arg in args.network_args or []:
        key, value = net_arg.split("=", 1)
        net_kwargs[key] = value
    if "dropout" not in net_kwargs:
        net_kwargs["dropout"] = args.network_dropout
    # Watched, so zero-initialised weights (LoRA's up, LoHa's w2_a...) are known to be zero, as
    # Prodigy's `p.any()` test sees them in a real run.
    with mt.MetaFactories(), mt.LiveBytes():
        network = network_module.create_network(
            1.0, args.network_dim, args.network_alpha, vae, text_encoders, unet, neuron_dropout=args.network_dropout, **net_kwargs
        )
    network.to("meta")  # accelerator.prepare(network) moves it to the GPU, buffers (alpha) included
    if hasattr(network, "prepare_network"):
        network.prepare_network(args)
    train_unet = not args.network_train_text_encoder_only
    train_text_encoder = trainer.is_train_text_encoder(args)
    network.apply_to(text_encoders, unet, train_text_encoder, train_unet)

    if args.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        for t_enc, flag in zip(text_encoders, trainer.get_text_encoders_train_flags(args, text_encoders)):
            if flag and t_enc.supports_gradient_checkpointing:
                t_enc.gradient_checkpointing_enable()
        network.enable_gradient_checkpointing()

    text_encoder_lr = args.text_encoder_lr
    if isinstance(text_encoder_lr, (list, tuple)):
        text_encoder_lr = None if len(text_encoder_lr) == 0 else text_encoder_lr[0]
    results = network.prepare_optimizer_params(text_encoder_lr, args.unet_lr, args.learning_rate)
    trainable_params = results[0] if isinstance(results, tuple) else results
    optimizer = make_optimizer(train_util, args, trainable_params)

    if args.full_fp16 or args.full_bf16:
        network.to(weight_dtype)
    unet_weight_dtype = te_weight_dtype = weight_dtype
    if args.fp8_base or args.fp8_base_unet:
        unet_weight_dtype = torch.float8_e4m3fn
        te_weight_dtype = weight_dtype if args.fp8_base_unet else torch.float8_e4m3fn
    unet.requires_grad_(False)
    unet.to(dtype=unet_weight_dtype)
    for t_enc in text_encoders:
        t_enc.requires_grad_(False)
        if te_on_gpu:
            t_enc.to(dtype=te_weight_dtype)
            if te_weight_dtype != weight_dtype:
                t_enc.text_model.embeddings.to(dtype=weight_dtype)
    if train_unet:
        unet = prepare_model(torch, mt, unet, args.mixed_precision)
    if train_text_encoder:
        text_encoders = [prepare_model(torch, mt, t, args.mixed_precision) for t in text_encoders]
    if args.gradient_checkpointing:
        unet.train()
        for t_enc, flag in zip(text_encoders, trainer.get_text_encoders_train_flags(args, text_encoders)):
            t_enc.train()
            if flag:
                trainer.prepare_text_encoder_grad_ckpt_workaround(0, t_enc)
    else:
        unet.eval()
        for t_enc in text_encoders:
            t_enc.eval()
    network.prepare_grad_etc(text_encoders, unet)
    if not cache_latents:
        vae.requires_grad_(False)
        vae.eval()
        vae.to(dtype=vae_dtype)

    # What is on the GPU before the step.
    tracker = mt.LiveBytes()
    mt.register_module(tracker, unet, "unet_weights")
    if te_on_gpu:
        for t in text_encoders:
            mt.register_module(tracker, t, "text_encoders")
    if not cache_latents:
        mt.register_module(tracker, vae, "vae")
    opt_params = [p for g in optimizer.param_groups for p in g["params"]]
    for p in network.parameters():
        tracker.register(p, "trainable_weights")
    for b in network.buffers():
        tracker.register(b, "trainable_weights")
    all_grad_params = [p for p in list(network.parameters()) + [p for t in text_encoders for p in t.parameters()] if p.requires_grad]
    mt.tag_gradients(tracker, all_grad_params)

    noise_scheduler = trainer.get_noise_scheduler(args, accelerator.device)
    width, height, b = job["resolution"]["width"], job["resolution"]["height"], job["batch_size"]
    batch = make_batch(torch, args, b, width, height, cache_latents, cache_te, weight_dtype)

    # Phases: wrap the trainer's steps so every allocation knows where it happened.
    orig_encode = trainer.encode_images_to_latents
    orig_pred = trainer.get_noise_pred_and_target
    orig_tokens = text_encoding_strategy.encode_tokens

    def encode_images(*a: Any, **k: Any) -> Any:
        with tracker.in_phase("vae_encode"), tracker.tagging("vae_encode"):
            return orig_encode(*a, **k)

    def encode_tokens(*a: Any, **k: Any) -> Any:
        with tracker.in_phase("text_encode"):
            return orig_tokens(*a, **k)

    def pred(*a: Any, **k: Any) -> Any:
        with tracker.in_phase("forward"):
            return orig_pred(*a, **k)

    trainer.encode_images_to_latents = encode_images
    trainer.get_noise_pred_and_target = pred
    text_encoding_strategy.encode_tokens = encode_tokens

    with mt.counting(tracker):
        in_opt = {id(p) for p in opt_params}
        init_optimizer_state(torch, tracker, [optimizer], opt_params, [p for p in all_grad_params if id(p) not in in_opt])
        micro = 2 if args.gradient_accumulation_steps > 1 else 1
        for i in range(micro):
            with tracker.in_phase("forward"):
                loss = trainer.process_batch(
                    batch, text_encoders, unet, network, vae, noise_scheduler, vae_dtype, weight_dtype, accelerator, args,
                    text_encoding_strategy, tokenize_strategy, is_train=True, train_text_encoder=train_text_encoder,
                    train_unet=train_unet,
                )  # fmt: skip
            with tracker.in_phase("backward"):
                accelerator.backward(loss)
            del loss
        with tracker.in_phase("optimizer"), tracker.tagging("optimizer_step"):
            if args.max_grad_norm != 0.0:
                accelerator.clip_grad_norm_(network.get_trainable_params(), args.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    return finish(tracker, trainable_count(opt_params), args)


def trace_finetune(job: dict[str, Any], torch: Any, mt: Any) -> dict[str, Any]:
    """sdxl_train.py (Dreambooth / fine-tuning): its training loop, mirrored."""
    sdxl_train = importlib.import_module("sdxl_train")
    train_util = importlib.import_module("library.train_util")
    sdxl_train_util = importlib.import_module("library.sdxl_train_util")
    sdxl_model_util = importlib.import_module("library.sdxl_model_util")
    strategy_sdxl = importlib.import_module("library.strategy_sdxl")
    custom = importlib.import_module("library.custom_train_functions")
    from diffusers import DDPMScheduler

    args = read_args(sdxl_train, train_util, job["config_file"])
    weight_dtype, _ = train_util.prepare_dtype(args)
    vae_dtype = torch.float32 if args.no_half_vae else weight_dtype
    cache_latents = bool(args.cache_latents or args.cache_latents_to_disk)
    model_dtype = sdxl_train_util.match_mixed_precision(args, weight_dtype)
    unet, te1, te2, vae = build_models(torch, mt, model_dtype)
    accelerator = FakeAccelerator(torch, mt, args.mixed_precision)
    if not args.diffusers_xformers:
        train_util.replace_unet_modules(unet, args.mem_eff_attn, args.xformers, args.sdpa)
    if args.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    train_unet = args.learning_rate != 0
    train_te1 = train_te2 = False
    text_encoding_strategy = strategy_sdxl.SdxlTextEncodingStrategy()
    tokenize_strategy = SimpleNamespace(tokenizer1=TOKENIZER, tokenizer2=TOKENIZER2)
    if args.train_text_encoder:
        if args.gradient_checkpointing:
            te1.gradient_checkpointing_enable()
            te2.gradient_checkpointing_enable()
        lr_te1 = args.learning_rate_te1 if args.learning_rate_te1 is not None else args.learning_rate
        lr_te2 = args.learning_rate_te2 if args.learning_rate_te2 is not None else args.learning_rate
        train_te1, train_te2 = lr_te1 != 0, lr_te2 != 0
        if not train_te1:
            te1.to(weight_dtype)
        if not train_te2:
            te2.to(weight_dtype)
        te1.requires_grad_(train_te1)
        te2.requires_grad_(train_te2)
        te1.train(train_te1)
        te2.train(train_te2)
    else:
        te1.to(weight_dtype)
        te2.to(weight_dtype)
        te1.requires_grad_(False)
        te2.requires_grad_(False)
        te1.eval()
        te2.eval()
    if not cache_latents:
        vae.requires_grad_(False)
        vae.eval()
        vae.to(dtype=vae_dtype)
    unet.requires_grad_(train_unet)
    if not train_unet:
        unet.to(dtype=weight_dtype)

    training_models = []
    params_to_optimize = []
    if train_unet:
        training_models.append(unet)
        params_to_optimize.append({"params": list(unet.parameters()), "lr": args.learning_rate})
    if train_te1:
        training_models.append(te1)
        params_to_optimize.append({"params": list(te1.parameters()), "lr": args.learning_rate_te1 or args.learning_rate})
    if train_te2:
        training_models.append(te2)
        params_to_optimize.append({"params": list(te2.parameters()), "lr": args.learning_rate_te2 or args.learning_rate})

    if args.fused_optimizer_groups:
        n_total = sum(len(g["params"]) for g in params_to_optimize)
        per_group = -(-n_total // args.fused_optimizer_groups)
        grouped, group, group_lr = [], [], -1
        for g in params_to_optimize:
            for p in g["params"]:
                if g["lr"] != group_lr:
                    if group:
                        grouped.append({"params": group, "lr": group_lr})
                        group = []
                    group_lr = g["lr"]
                group.append(p)
                if len(group) == per_group:
                    grouped.append({"params": group, "lr": group_lr})
                    group, group_lr = [], -1
        if group:
            grouped.append({"params": group, "lr": group_lr})
        optimizers = [make_optimizer(train_util, args, [g]) for g in grouped]
    else:
        optimizers = [make_optimizer(train_util, args, params_to_optimize)]
    optimizer = optimizers[0]

    if args.full_fp16 or args.full_bf16:
        unet.to(weight_dtype)
        te1.to(weight_dtype)
        te2.to(weight_dtype)
    if train_te1:
        te1.text_model.encoder.layers[-1].requires_grad_(False)
        te1.text_model.final_layer_norm.requires_grad_(False)
    if train_unet:
        unet = prepare_model(torch, mt, unet, args.mixed_precision)
    if train_te1:
        te1 = prepare_model(torch, mt, te1, args.mixed_precision)
    if train_te2:
        te2 = prepare_model(torch, mt, te2, args.mixed_precision)
    te_on_gpu = not args.cache_text_encoder_outputs

    tracker = mt.LiveBytes()
    for model, frozen_tag in ((unet, "unet_weights"), (te1, "text_encoders"), (te2, "text_encoders")):
        if frozen_tag == "text_encoders" and not te_on_gpu:
            continue
        for p in model.parameters():
            tracker.register(p, "trainable_weights" if p.requires_grad else frozen_tag)
        for bf in model.buffers():
            tracker.register(bf, frozen_tag)
    if not cache_latents:
        mt.register_module(tracker, vae, "vae")
    opt_params = [p for o in optimizers for g in o.param_groups for p in g["params"] if p.requires_grad]
    mt.tag_gradients(tracker, opt_params)

    if args.fused_backward_pass:
        adafactor_fused = importlib.import_module("library.adafactor_fused")
        adafactor_fused.patch_adafactor_fused(optimizer)
        for param_group in optimizer.param_groups:
            for parameter in param_group["params"]:
                if parameter.requires_grad:

                    def grad_hook(tensor: Any, param_group: Any = param_group) -> None:
                        with tracker.tagging("optimizer_step"):
                            if args.max_grad_norm != 0.0:
                                accelerator.clip_grad_norm_(tensor, args.max_grad_norm)
                            optimizer.step_param(tensor, param_group)
                        tensor.grad = None

                    parameter.register_post_accumulate_grad_hook(grad_hook)
    elif args.fused_optimizer_groups:
        hooked = {i: 0 for i in range(len(optimizers))}
        per_opt = [0] * len(optimizers)
        owner: dict[int, int] = {}
        for i, o in enumerate(optimizers):
            for g in o.param_groups:
                for parameter in g["params"]:
                    if parameter.requires_grad:

                        def opt_hook(parameter: Any) -> None:
                            with tracker.tagging("optimizer_step"):
                                if args.max_grad_norm != 0.0:
                                    accelerator.clip_grad_norm_(parameter, args.max_grad_norm)
                                j = owner[id(parameter)]
                                hooked[j] += 1
                                if hooked[j] == per_opt[j]:
                                    optimizers[j].step()
                                    optimizers[j].zero_grad(set_to_none=True)

                        parameter.register_post_accumulate_grad_hook(opt_hook)
                        owner[id(parameter)] = i
                        per_opt[i] += 1

    noise_scheduler = DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, clip_sample=False)
    custom.prepare_scheduler_for_custom_training(noise_scheduler, accelerator.device)
    width, height, b = job["resolution"]["width"], job["resolution"]["height"], job["batch_size"]
    batch = make_batch(torch, args, b, width, height, cache_latents, bool(args.cache_text_encoder_outputs), weight_dtype)
    for m in training_models:
        m.train()

    def step() -> Any:
        if batch["latents"] is not None:
            latents = batch["latents"].to(accelerator.device).to(dtype=weight_dtype)
        else:
            with tracker.in_phase("vae_encode"), tracker.tagging("vae_encode"), torch.no_grad():
                latents = vae.encode(batch["images"].to(vae_dtype)).latent_dist.sample().to(weight_dtype)
                if torch.any(torch.isnan(latents)):
                    latents = torch.nan_to_num(latents, 0, out=latents)
        latents = latents * sdxl_model_util.VAE_SCALE_FACTOR
        if batch["text_encoder_outputs_list"] is not None:
            hs1, hs2, pool2 = batch["text_encoder_outputs_list"]
            hs1, hs2, pool2 = (t.to(accelerator.device, dtype=weight_dtype) for t in (hs1, hs2, pool2))
        else:
            input_ids1, input_ids2 = batch["input_ids_list"]
            with tracker.in_phase("text_encode"), torch.set_grad_enabled(args.train_text_encoder):
                hs1, hs2, pool2 = text_encoding_strategy.encode_tokens(tokenize_strategy, [te1, te2, te2], [input_ids1, input_ids2])
                if args.full_fp16:
                    hs1, hs2, pool2 = hs1.to(weight_dtype), hs2.to(weight_dtype), pool2.to(weight_dtype)
        embs = sdxl_train_util.get_size_embeddings(batch["original_sizes_hw"], batch["crop_top_lefts"], batch["target_sizes_hw"], accelerator.device).to(weight_dtype)
        vector_embedding = torch.cat([pool2, embs], dim=1).to(weight_dtype)
        text_embedding = torch.cat([hs1, hs2], dim=2).to(weight_dtype)
        noise, noisy_latents, timesteps = train_util.get_noise_noisy_latents_and_timesteps(args, noise_scheduler, latents)
        noisy_latents = noisy_latents.to(weight_dtype)
        with accelerator.autocast():
            noise_pred = unet(noisy_latents, timesteps, text_embedding, vector_embedding)
        target = noise_scheduler.get_velocity(latents, noise, timesteps) if args.v_parameterization else noise
        huber_c = train_util.get_huber_threshold_if_needed(args, timesteps, noise_scheduler)
        if args.min_snr_gamma or args.scale_v_pred_loss_like_noise_pred or args.v_pred_like_loss or args.debiased_estimation_loss or args.masked_loss:
            loss = train_util.conditional_loss(noise_pred.float(), target.float(), args.loss_type, "none", huber_c)
            loss = loss.mean([1, 2, 3])
            if args.min_snr_gamma:
                loss = custom.apply_snr_weight(loss, timesteps, noise_scheduler, args.min_snr_gamma, args.v_parameterization)
            if args.scale_v_pred_loss_like_noise_pred:
                loss = custom.scale_v_prediction_loss_like_noise_prediction(loss, timesteps, noise_scheduler)
            if args.v_pred_like_loss:
                loss = custom.add_v_prediction_like_loss(loss, timesteps, noise_scheduler, args.v_pred_like_loss)
            if args.debiased_estimation_loss:
                loss = custom.apply_debiased_estimation(loss, timesteps, noise_scheduler, args.v_parameterization)
            loss = loss.mean()
        else:
            loss = train_util.conditional_loss(noise_pred.float(), target.float(), args.loss_type, "mean", huber_c)
        return loss

    with mt.counting(tracker):
        # The fused Adafactor's state is the plain Adafactor's (step_param is its step for one tensor).
        in_opt = {id(p) for p in opt_params}
        others = [p for m in (unet, te1, te2) for p in m.parameters() if p.requires_grad and id(p) not in in_opt]
        init_optimizer_state(torch, tracker, optimizers, opt_params, others)
        micro = 2 if args.gradient_accumulation_steps > 1 else 1
        for i in range(micro):
            with tracker.in_phase("forward"):
                loss = step()
            with tracker.in_phase("backward"):
                accelerator.backward(loss)
            del loss
        with tracker.in_phase("optimizer"), tracker.tagging("optimizer_step"):
            if not (args.fused_backward_pass or args.fused_optimizer_groups):
                if args.max_grad_norm != 0.0:
                    accelerator.clip_grad_norm_([p for m in training_models for p in m.parameters()], args.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
    return finish(tracker, trainable_count(opt_params), args)


def finish(tracker: Any, trainable: int, args: Any) -> dict[str, Any]:
    r = tracker.result()
    mt = sys.modules["memtrace"]
    phases = {k: {"gib": round(mt.gib(v["bytes"]), 4), "breakdown": mt.fmt_tags(v["by_tag"])} for k, v in r["phases"].items() if k != "setup"}
    peak_phase = r["peak_phase"]
    return {
        "allocated_peak_gib": round(mt.gib(r["peak_bytes"]), 4),
        "phase": peak_phase,
        "breakdown": mt.fmt_tags(r["peak_by_tag"]),
        "phases": phases,
        "trainable_params": trainable,
        "ops": r["ops"],
        "ops_by_phase": r["ops_by_phase"],
        "attention": "mem_eff_attn" if args.mem_eff_attn else "xformers" if args.xformers else "sdpa" if args.sdpa else "none",
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "transformers", "diffusers", "accelerate", "lycoris-lora", "bitsandbytes"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run_job(job: dict[str, Any], kernel: str) -> dict[str, Any]:
    import torch

    mt = importlib.import_module("memtrace")
    t0, c0 = time.time(), time.process_time()
    # Import sd-scripts (and through it transformers, diffusers...) before the emulation installs its
    # xformers stand-in, so that no library mistakes the stand-in for an installed package.
    importlib.import_module(job.get("script", ""))
    with mt.emulation(kernel):
        if job["script"] == "sdxl_train_network":
            out = trace_network(job, torch, mt)
        elif job["script"] == "sdxl_train":
            out = trace_finetune(job, torch, mt)
        else:
            raise ValueError(f"unknown script {job['script']!r}: sdxl_train_network or sdxl_train")
    out["versions"] = versions()
    out["seconds"] = round(time.time() - t0, 1)
    out["cpu_seconds"] = round(time.process_time() - c0, 1)
    return out


def run_one(job: dict[str, Any], config_file: str, kernel: str) -> dict[str, Any]:
    try:
        lora = importlib.import_module("networks.lora")
    except ImportError:
        lora = None
    targets = list(lora.LoRANetwork.UNET_TARGET_REPLACE_MODULE) if lora else None
    try:
        return {"id": job.get("id"), "ok": True, **run_job(dict(job, config_file=config_file), kernel)}
    except (Exception, SystemExit) as e:  # one bad job does not stop the others (argparse exits)
        return {"id": job.get("id"), "ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}
    finally:
        # networks.lora extends this class-level list in place for LoCon; undo it for the next job.
        lora = sys.modules.get("networks.lora")
        if lora and targets is not None:
            lora.LoRANetwork.UNET_TARGET_REPLACE_MODULE[:] = targets


def run_forked(job: dict[str, Any], config_file: str, kernel: str) -> bool:
    """Run one job in a child process; its result line goes to our stdout. False when it failed."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            out = run_one(job, config_file, kernel)
            print(json.dumps(out), flush=True)
            code = 0 if out["ok"] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # killed (out of memory?) before it could report
        print(json.dumps({"id": job.get("id"), "ok": False, "error": f"the trace process ended with {code} before reporting"}), flush=True)
    return code == 0


def load_jobs(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    jobs = data if isinstance(data, list) else [data]
    for j in jobs:
        if not isinstance(j, dict) or not isinstance(j.get("config_toml"), str) or j.get("script") not in ("sdxl_train_network", "sdxl_train"):
            raise ValueError(f"{path}: each job needs script (sdxl_train_network or sdxl_train) and config_toml (text)")
    return jobs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sd-scripts", type=Path, required=True, help="sd-scripts checkout (v0.10.1)")
    ap.add_argument("--jobs", type=Path, required=True, help="a job, or a list of jobs, as JSON")
    ap.add_argument("--kernel", choices=["flash", "efficient"], default="flash", help="the SDPA kernel a GPU would pick")
    opts = ap.parse_args()
    sd = opts.sd_scripts.resolve()
    if not (sd / "library" / "sdxl_original_unet.py").is_file():
        print(json.dumps({"ok": False, "error": f"not an sd-scripts checkout: {sd} (library/sdxl_original_unet.py is missing)"}), flush=True)
        return 2
    try:
        jobs = load_jobs(opts.jobs)
    except (OSError, ValueError) as e:
        print(json.dumps({"ok": False, "error": str(e)}), flush=True)
        return 2
    sys.path.insert(0, str(sd))
    logging.disable(logging.WARNING)
    try:
        import torch  # noqa: F401
    except ImportError as e:
        print(json.dumps({"ok": False, "error": f"torch is not importable in this Python: {e}"}), flush=True)
        return 2
    failed = 0
    # sd-scripts is written for one training per process and keeps state between calls (networks.lora
    # extends a class-level list of target modules for LoCon, strategies are process-wide singletons).
    # So each job runs in a fork of a process that has imported everything once; without fork
    # (Windows) jobs run one after another in this process.
    isolate = hasattr(os, "fork") and len(jobs) > 1
    if isolate:
        for name in sorted({j["script"] for j in jobs}) + ["networks.lora", "lycoris.kohya", "bitsandbytes", "prodigyopt"]:
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # a job that needs it reports the error itself
    with tempfile.TemporaryDirectory(prefix="vram-trace-") as tmp:
        for i, job in enumerate(jobs):
            config_file = Path(tmp) / f"job{i}.toml"
            config_file.write_text(job["config_toml"], encoding="utf-8")
            if isolate:
                failed += 0 if run_forked(job, str(config_file), opts.kernel) else 1
            else:
                out = run_one(job, str(config_file), opts.kernel)
                failed += 0 if out["ok"] else 1
                print(json.dumps(out), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
