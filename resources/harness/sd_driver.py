#!/usr/bin/env python3
"""Run one sd-scripts SDXL training script in this process, in one of two modes.

  sd_driver.py --sd-scripts DIR --script sdxl_train_network.py --result OUT.json --dry-run -- ARGS...
  sd_driver.py --sd-scripts DIR --script sdxl_train.py --result OUT.json -- ARGS...

--dry-run (CPU, any machine): the script's own argument parsing, --config_file reading and
verification, then its own train() up to the point where it asks for an accelerator. Everything
before that is sd-scripts' real code: the dataset TOML schema (voluptuous), blueprint generation,
dataset construction with captions and bucketing, and the pre-model asserts (cacheable latents or
text-encoder outputs, bucket steps, the network script's extra checks). We stop there by replacing
library.train_util.prepare_accelerator with a function that raises; no model is built and no GPU
is touched. Afterwards we also import the network module and build the optimizer on a dummy
parameter, which checks optimizer names and arguments without a model.

Measurement mode (GPU machine): runs the script as __main__ exactly as `python <script> ARGS`
would, and writes from an atexit hook torch's peak allocated/reserved memory, the step times seen
by the "steps" progress bar, and any exception. The final model save of sdxl_train.py (a full
SDXL checkpoint, minutes of disk I/O that measure nothing) is skipped.

The result JSON is written in both modes, also when sd-scripts refuses the input or raises.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


class DryRunStop(Exception):
    """Raised in place of prepare_accelerator: the dataset is ready, no model is loaded yet."""


def write_result(path: Path, result: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def describe_dataset(group: Any) -> dict[str, Any]:
    """What sd-scripts prepared: images, batches and buckets per dataset."""
    if group is None:
        return {}
    datasets = []
    for ds in getattr(group, "datasets", []):
        buckets = []
        manager = getattr(ds, "bucket_manager", None)
        if manager is not None:
            for reso, bucket in zip(manager.resos, manager.buckets):
                if len(bucket) > 0:
                    buckets.append({"resolution": list(reso), "count": len(bucket)})
        datasets.append(
            {
                "batch_size": getattr(ds, "batch_size", None),
                "num_train_images": getattr(ds, "num_train_images", None),
                "num_reg_images": getattr(ds, "num_reg_images", None),
                "batches": len(ds),
                "buckets": buckets,
            }
        )
    return {
        "num_train_images": getattr(group, "num_train_images", None),
        "num_reg_images": getattr(group, "num_reg_images", None),
        "batches": len(group),
        "datasets": datasets,
    }


def parse_args_like_the_script(module: Any, argv: list[str]) -> Any:
    """The script's __main__ block up to train(): parse, verify, read --config_file."""
    train_util = importlib.import_module("library.train_util")
    parser = module.setup_parser()
    # read_config_from_file parses sys.argv again (command line over TOML), so it must hold argv.
    sys.argv = [module.__file__ or "", *argv]
    args = parser.parse_args(argv)
    train_util.verify_command_line_training_args(args)
    return train_util.read_config_from_file(args, parser)


def dry_run(script: str, argv: list[str], result: dict[str, Any]) -> int:
    train_util = importlib.import_module("library.train_util")
    config_util = importlib.import_module("library.config_util")
    captured: dict[str, Any] = {}

    def stop(args: Any) -> None:
        raise DryRunStop()

    original_generate = config_util.generate_dataset_group_by_blueprint

    def capture_generate(*a: Any, **k: Any) -> Any:
        out = original_generate(*a, **k)
        captured["train"], captured["val"] = out
        return out

    train_util.prepare_accelerator = stop
    config_util.generate_dataset_group_by_blueprint = capture_generate

    result["stage"] = "import"
    module = importlib.import_module(Path(script).stem)
    result["stage"] = "parse"
    args = parse_args_like_the_script(module, argv)
    result["stage"] = "dataset"
    reached = False
    try:
        if hasattr(module, "SdxlNetworkTrainer"):
            module.SdxlNetworkTrainer().train(args)
        else:
            module.train(args)
    except DryRunStop:
        reached = True
    result["dataset"] = describe_dataset(captured.get("train"))
    if not reached:
        # train() returned on its own: sd-scripts logs "No data found" and returns without an error.
        result["status"] = "refused"
        result["error"] = "sd-scripts stopped before loading the model (it found no training images; see the log)."
        return 1

    result["stage"] = "network-module"
    network_module = getattr(args, "network_module", None)
    if network_module:
        importlib.import_module(network_module)
    result["stage"] = "optimizer"
    import torch

    dummy = torch.nn.Parameter(torch.zeros(64, 64))
    optimizer_name, optimizer_args, _ = train_util.get_optimizer(args, [dummy])
    result["optimizer"] = {"name": optimizer_name, "args": optimizer_args}
    result["stage"] = "done"
    result["status"] = "accepted"
    return 0


def measure(script_path: Path, argv: list[str], result: dict[str, Any], result_path: Path) -> int:
    import runpy

    import torch

    step_times: list[tuple[int, float]] = []
    result["step_times"] = step_times
    result["t_start"] = time.time()

    # Step times from the "steps" progress bar: update() runs once per optimizer step.
    import tqdm.std

    original_update = tqdm.std.tqdm.update

    def timed_update(self: Any, n: float = 1) -> Any:
        out = original_update(self, n)
        if getattr(self, "desc", "") == "steps":
            step_times.append((int(self.n), time.time()))
        return out

    tqdm.std.tqdm.update = timed_update  # type: ignore[method-assign]

    # The fine-tune script ends by saving a full SDXL checkpoint; nothing to measure there.
    sdxl_train_util = importlib.import_module("library.sdxl_train_util")
    sdxl_train_util.save_sd_model_on_train_end = lambda *a, **k: None

    def report() -> None:
        result["t_end"] = time.time()
        if torch.cuda.is_available():
            result["torch_max_allocated_bytes"] = torch.cuda.max_memory_allocated()
            result["torch_max_reserved_bytes"] = torch.cuda.max_memory_reserved()
            result["device_name"] = torch.cuda.get_device_name(0)
        result["torch_version"] = torch.__version__
        result["cuda_version"] = torch.version.cuda
        write_result(result_path, result)

    atexit.register(report)
    sys.argv = [str(script_path), *argv]
    result["stage"] = "train"
    try:
        runpy.run_path(str(script_path), run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        result["status"] = "ok" if code == 0 else "failed"
        return code
    except BaseException as e:  # noqa: BLE001 - recorded, then the process fails
        result["status"] = "oom" if "OutOfMemoryError" in type(e).__name__ or "out of memory" in str(e) else "failed"
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()[-4000:]
        raise
    result["status"] = "ok"
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="Run an sd-scripts SDXL script (dry run or measured).")
    ap.add_argument("--sd-scripts", type=Path, required=True)
    ap.add_argument("--script", required=True, choices=["sdxl_train_network.py", "sdxl_train.py"])
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    argv = opts.rest[1:] if opts.rest[:1] == ["--"] else opts.rest

    sd = opts.sd_scripts.resolve()
    sys.path.insert(0, str(sd))
    result: dict[str, Any] = {"script": opts.script, "mode": "dry-run" if opts.dry_run else "measure", "status": "failed"}
    try:
        if opts.dry_run:
            code = dry_run(opts.script, argv, result)
        else:
            code = measure(sd / opts.script, argv, result, opts.result)
    except SystemExit as e:
        # argparse and read_config_from_file exit on bad input; the message is on stderr.
        result["status"] = "refused"
        result["error"] = f"sd-scripts exited with code {e.code} during {result.get('stage')}; see its output"
        code = 2
    except BaseException as e:  # noqa: BLE001 - every refusal is reported, not raised
        if result.get("mode") == "measure":
            write_result(opts.result, result)
            raise
        result["status"] = "refused"
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()[-4000:]
        code = 1
    if opts.dry_run:
        write_result(opts.result, result)
    return code


if __name__ == "__main__":
    sys.exit(main())
