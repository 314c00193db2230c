#!/usr/bin/env python3
"""Run exported SDXL Studio configs through real sd-scripts and record memory and speed.

  measure.py --jobs DIR --sd-scripts DIR --tokenizers DIR --work DIR --out results.jsonl \\
             --checkpoint sdxl-random.safetensors [--budget-s 480] [--steps 12]
  measure.py --jobs DIR --sd-scripts DIR --tokenizers DIR --work DIR --out dry-run.json --dry-run

A job is a folder with config.toml and dataset.toml (as `preset export` writes them) and an
optional job.json: {"id", "preset_id", "preset_hash", "script", "question", "prediction",
"config": {key: value}, "dataset": {key: value}, "drop": [key], "steps": N}.

For every job we write a small synthetic dataset (gradient images at the training resolution,
one caption file each) and rewrite the two files so that they point at it, at our tokenizer
folders and (when measuring) at the random-weight checkpoint, with a fixed number of steps and
no sampling, saving or logging. Then sd_driver.py runs the real training script.

--dry-run stops each job after sd-scripts has prepared the dataset (no model, no GPU) and prints
accepted/refused per job. Otherwise each job runs for --steps optimizer steps while a thread
samples the process's GPU memory every 100 ms (NVML, or nvidia-smi when NVML is missing); one
JSON record per job is appended to --out as soon as the job ends, so a run that is cut off keeps
what it measured. Jobs that would not fit in what is left of --budget-s are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from progress_log import parse_progress, steady_rate  # noqa: E402

# Keys removed from every config before a harness run: they name the user's files or make the
# run write, sample or log things that cost time and measure nothing.
DROP_KEYS = {
    "max_train_epochs",
    "sample_prompts",
    "sample_every_n_steps",
    "sample_every_n_epochs",
    "sample_at_first",
    "save_every_n_epochs",
    "save_every_n_steps",
    "save_n_epoch_ratio",
    "save_last_n_epochs",
    "save_last_n_steps",
    "save_state",
    "save_state_on_train_end",
    "logging_dir",
    "log_with",
    "log_prefix",
    "log_tracker_name",
    "log_tracker_config",
    "wandb_api_key",
    "wandb_run_name",
    "resume",
    "network_weights",
    "vae",
    "console_log_file",
    "huggingface_repo_id",
    "huggingface_token",
    "output_config",
    "config_file",
}
KEY_SETTINGS = [
    "network_module",
    "network_dim",
    "network_alpha",
    "network_args",
    "network_train_unet_only",
    "train_text_encoder",
    "optimizer_type",
    "optimizer_args",
    "mixed_precision",
    "full_bf16",
    "full_fp16",
    "fp8_base",
    "fp8_base_unet",
    "gradient_checkpointing",
    "cache_latents",
    "cache_latents_to_disk",
    "cache_text_encoder_outputs",
    "sdpa",
    "xformers",
    "mem_eff_attn",
    "fused_backward_pass",
    "max_token_length",
    "lowram",
    "highvram",
    "no_half_vae",
    "gradient_accumulation_steps",
]


# --- job preparation -------------------------------------------------------------------------


class JobError(Exception):
    """The job's files cannot be used (bad TOML, unsupported layout)."""


def load_toml(path: Path) -> dict[str, Any]:
    import toml  # the parser sd-scripts itself uses (toml==0.10.2)

    try:
        return toml.load(str(path))
    except Exception as e:  # noqa: BLE001 - any parse error is a refusal of this job
        raise JobError(f"{path.name} does not parse as TOML (sd-scripts reads it with toml 0.10.2): {e}") from e


def dump_toml(data: dict[str, Any], path: Path) -> None:
    import toml

    path.write_text(toml.dumps(data), encoding="utf-8")


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """sd-scripts merges every top-level table into one flat table (section names are ignored)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


def parse_resolution(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    if isinstance(value, str):
        parts = [int(p) for p in value.split(",") if p.strip()]
        return (parts[0], parts[-1]) if parts else None
    return None


def detect_script(job_dir: Path, meta: dict[str, Any], config: dict[str, Any]) -> str:
    if meta.get("script"):
        return str(meta["script"])
    command = job_dir / "command.txt"
    if command.is_file():
        text = command.read_text(encoding="utf-8")
        if "sdxl_train_network.py" in text:
            return "sdxl_train_network.py"
        if "sdxl_train.py" in text:
            return "sdxl_train.py"
    return "sdxl_train_network.py" if config.get("network_module") else "sdxl_train.py"


def write_images(folder: Path, count: int, size: tuple[int, int], caption: str, extensions: set[str]) -> None:
    """Gradient images (tiny PNGs; content does not change memory or speed) with captions."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    base = Image.linear_gradient("L").resize((w, h))
    for i in range(count):
        img = Image.merge("RGB", (base, base.rotate(90 * (i % 4)).resize((w, h)), base.transpose(Image.FLIP_LEFT_RIGHT)))
        img.save(folder / f"img{i:03d}.png", optimize=False, compress_level=1)
        for ext in extensions:
            (folder / f"img{i:03d}{ext}").write_text(f"{caption}, photo {i}, detailed", encoding="utf-8")


def prepare_job(job_dir: Path, work: Path, tokenizers: Path, dry_run: bool, checkpoint: Path | None, steps: int) -> dict[str, Any]:
    meta_path = job_dir / "job.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    job_id = str(meta.get("id") or job_dir.name)
    config_path, dataset_path = job_dir / "config.toml", job_dir / "dataset.toml"
    for p in (config_path, dataset_path):
        if not p.is_file():
            raise JobError(f"{p} is missing; export the preset with `preset export <id> --out {job_dir}`.")
    config = flatten_config(load_toml(config_path))
    dataset = load_toml(dataset_path)
    for key in meta.get("drop", []):
        config.pop(key, None)
    config.update(meta.get("config", {}))
    script = detect_script(job_dir, meta, config)

    out_dir = work / job_id
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)

    for key in DROP_KEYS:
        config.pop(key, None)
    config["tokenizer_cache_dir"] = str(tokenizers)
    config["output_dir"] = str(out_dir / "output")
    config["output_name"] = "harness"
    config["max_train_steps"] = int(meta.get("steps", steps))
    config["dataset_config"] = str(out_dir / "dataset.toml")
    if checkpoint is not None:
        config["pretrained_model_name_or_path"] = str(checkpoint)
    elif dry_run and not config.get("pretrained_model_name_or_path"):
        config["pretrained_model_name_or_path"] = "not-loaded-in-dry-run.safetensors"

    general = dataset.get("general", {}) if isinstance(dataset.get("general"), dict) else {}
    datasets = dataset.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise JobError("dataset.toml has no [[datasets]] table.")
    fallback_reso = parse_resolution(config.get("resolution")) or (1024, 1024)
    for di, ds in enumerate(datasets):
        ds.update(meta.get("dataset", {}))
        reso = parse_resolution(ds.get("resolution")) or parse_resolution(general.get("resolution")) or fallback_reso
        batch = int(ds.get("batch_size", general.get("batch_size", config.get("train_batch_size", 1))))
        subsets = ds.get("subsets") or []
        if not subsets:
            raise JobError(f"[[datasets]] {di} has no [[datasets.subsets]].")
        for si, sub in enumerate(subsets):
            if "metadata_file" in sub:
                raise JobError("fine-tuning subsets (metadata_file) are not supported by the harness; use image_dir subsets.")
            ext = sub.get("caption_extension", ds.get("caption_extension", general.get("caption_extension")))
            ext = ext or config.get("caption_extension") or ".caption"
            folder = out_dir / "data" / f"d{di}s{si}"
            count = max(8, 2 * batch)
            write_images(folder, count, reso, sub.get("class_tokens") or "a photo", {ext, ".txt", ".caption"})
            sub["image_dir"] = str(folder)
    dump_toml(dataset, out_dir / "dataset.toml")
    dump_toml(config, out_dir / "config.toml")

    first = datasets[0]
    first_reso = parse_resolution(first.get("resolution")) or parse_resolution(general.get("resolution")) or fallback_reso
    return {
        "id": job_id,
        "dir": out_dir,
        "script": script,
        "meta": meta,
        "config_file": out_dir / "config.toml",
        "resolution": list(first_reso),
        "batch_size": int(first.get("batch_size", general.get("batch_size", config.get("train_batch_size", 1)))),
        "steps": config["max_train_steps"],
        "settings": {k: config[k] for k in KEY_SETTINGS if k in config},
    }


# --- GPU memory sampling ---------------------------------------------------------------------

def nvidia_smi_csv(query: str, *more: str, timeout: float) -> str:
    """nvidia-smi's answer to one --query-... option as bare CSV (no header, no units)."""
    return subprocess.run(
        ["nvidia-smi", query, "--format=csv,noheader,nounits", *more],
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout



class MemorySampler(threading.Thread):
    """Peak GPU memory of one process tree (and of the whole GPU), sampled every interval."""

    def __init__(self, root_pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_process_mib = 0.0
        self.peak_all_processes_mib = 0.0
        self.peak_device_used_mib = 0.0
        self.samples = 0
        self.source = "none"
        self.error: str | None = None
        self._nvml: Any = None
        self._handle: Any = None
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            self.source = "nvml"
        except Exception:  # noqa: BLE001 - fall back to the command line tool
            self.source = "nvidia-smi" if shutil.which("nvidia-smi") else "none"

    def tree_pids(self) -> set[int]:
        pids = {self.root_pid}
        try:
            out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, timeout=5).stdout
            children: dict[int, list[int]] = {}
            for line in out.split("\n"):
                parts = line.split()
                if len(parts) == 2:
                    children.setdefault(int(parts[1]), []).append(int(parts[0]))
            stack = [self.root_pid]
            while stack:
                for c in children.get(stack.pop(), []):
                    if c not in pids:
                        pids.add(c)
                        stack.append(c)
        except Exception:  # noqa: BLE001 - the root pid alone still works
            pass
        return pids

    def sample(self, pids: set[int]) -> None:
        per_pid: dict[int, float] = {}
        device_used = 0.0
        if self.source == "nvml":
            nv = self._nvml
            for p in nv.nvmlDeviceGetComputeRunningProcesses(self._handle):
                if p.usedGpuMemory is not None:
                    per_pid[int(p.pid)] = p.usedGpuMemory / 2**20
            device_used = nv.nvmlDeviceGetMemoryInfo(self._handle).used / 2**20
        elif self.source == "nvidia-smi":
            out = nvidia_smi_csv("--query-compute-apps=pid,used_memory", timeout=5)
            for line in out.strip().split("\n"):
                parts = [x.strip() for x in line.split(",")]
                if len(parts) == 2 and parts[0].isdigit() and re.fullmatch(r"[\d.]+", parts[1]):
                    per_pid[int(parts[0])] = float(parts[1])
            out = nvidia_smi_csv("--query-gpu=memory.used", "-i", "0", timeout=5).strip()
            device_used = float(out) if re.fullmatch(r"[\d.]+", out) else 0.0
        mine = sum(v for pid, v in per_pid.items() if pid in pids)
        self.peak_process_mib = max(self.peak_process_mib, mine)
        self.peak_all_processes_mib = max(self.peak_all_processes_mib, sum(per_pid.values()))
        self.peak_device_used_mib = max(self.peak_device_used_mib, device_used)
        self.samples += 1

    def run(self) -> None:
        if self.source == "none":
            return
        pids = self.tree_pids()
        last_tree = time.monotonic()
        while not self.stop_event.is_set():
            started = time.monotonic()
            if started - last_tree > 2.0:
                pids = self.tree_pids()
                last_tree = started
            try:
                self.sample(pids)
            except Exception as e:  # noqa: BLE001 - keep sampling; report the last error
                self.error = f"{type(e).__name__}: {e}"
            self.stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


# --- running -----------------------------------------------------------------------------------


def gpu_info() -> dict[str, Any]:
    if not shutil.which("nvidia-smi"):
        return {}
    out = nvidia_smi_csv("--query-gpu=name,driver_version,memory.total", "-i", "0", timeout=20).strip()
    parts = [p.strip() for p in out.split(",")]
    if len(parts) != 3:
        return {"raw": out}
    return {"name": parts[0], "driver": parts[1], "memory_total_mib": float(parts[2])}


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child runs in its own process group
    except ProcessLookupError:
        pass


def run_child(cmd: list[str], log_path: Path, timeout_s: float, env: dict[str, str], sample: bool) -> tuple[int | None, MemorySampler | None, float]:
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        sampler = MemorySampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        try:
            code: int | None = proc.wait(timeout=max(1.0, timeout_s))
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            proc.wait()
            code = None
        except BaseException:
            kill_tree(proc)
            raise
        finally:
            if sampler:
                sampler.stop()
    return code, sampler, time.monotonic() - started


def append_record(out: Path, record: dict[str, Any]) -> None:
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def job_dirs(jobs: Path, only: set[str] | None) -> list[Path]:
    order_file = jobs / "order.txt"
    if order_file.is_file():
        names = [n.strip() for n in order_file.read_text(encoding="utf-8").split("\n") if n.strip()]
    else:
        names = sorted(p.name for p in jobs.iterdir() if p.is_dir())
    dirs = [jobs / n for n in names if (jobs / n).is_dir()]
    return [d for d in dirs if only is None or d.name in only]


def main() -> int:
    ap = argparse.ArgumentParser(description="Measure (or dry-run) exported configs with real sd-scripts.")
    ap.add_argument("--jobs", type=Path, required=True)
    ap.add_argument("--sd-scripts", type=Path, required=True)
    ap.add_argument("--tokenizers", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--logs", type=Path, help="where each job's training log is kept (default: beside --out)")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--budget-s", type=float, default=480.0, help="total time for all jobs")
    ap.add_argument("--job-timeout-s", type=float, default=150.0)
    ap.add_argument("--min-job-s", type=float, default=60.0, help="skip a job when less than this is left")
    ap.add_argument("--python", default=sys.executable, help="python that runs sd-scripts")
    ap.add_argument("--only", help="comma-separated job ids")
    ap.add_argument(
        "--skip-done",
        type=Path,
        help="results file of an earlier call (same machine): jobs recorded there as ok or oom are not run again",
    )
    ap.add_argument("--sd-scripts-version", default=None)
    ap.add_argument(
        "--parse-log-cmd",
        help="also parse each log with the app's own parser where node is available, e.g. "
        "'npm run -s cli -- run parse-log {log} --json' (its JSON goes to the record's parsed_log)",
    )
    opts = ap.parse_args()

    started = time.monotonic()
    if not opts.dry_run and (opts.checkpoint is None or not opts.checkpoint.is_file()):
        print(f"No checkpoint at {opts.checkpoint}; build it with make_checkpoint.py first.", file=sys.stderr)
        return 2
    sd_version = opts.sd_scripts_version
    if sd_version is None:
        version_file = opts.sd_scripts / "HARNESS_VERSION"
        sd_version = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else "unknown"
    opts.work.mkdir(parents=True, exist_ok=True)
    only = set(opts.only.split(",")) if opts.only else None
    gpu = {} if opts.dry_run else gpu_info()
    env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")

    done = finished_ids(opts.skip_done) if opts.skip_done else set()
    dry_results: list[dict[str, Any]] = []
    for job_dir in job_dirs(opts.jobs, only):
        if job_dir.name in done:
            print(f"[{job_dir.name}] already measured in {opts.skip_done}", flush=True)
            continue
        left = opts.budget_s - (time.monotonic() - started)
        if not opts.dry_run and left < opts.min_job_s:
            print(f"[{job_dir.name}] skipped: {left:.0f}s left of the budget", flush=True)
            append_record(opts.out, {"id": job_dir.name, "status": "skipped-budget", "time": time.time()})
            continue
        try:
            job = prepare_job(job_dir, opts.work, opts.tokenizers.resolve(), opts.dry_run, opts.checkpoint, opts.steps)
        except JobError as e:
            print(f"[{job_dir.name}] refused: {e}", flush=True)
            if opts.dry_run:
                dry_results.append({"id": job_dir.name, "status": "refused", "error": str(e)})
            else:
                append_record(opts.out, {"id": job_dir.name, "status": "refused", "error": str(e), "time": time.time()})
            continue
        result_path = job["dir"] / "driver-result.json"
        log_path = job["dir"] / "train.log"
        cmd = [
            opts.python,
            "-u",
            str(HERE / "sd_driver.py"),
            "--sd-scripts",
            str(opts.sd_scripts.resolve()),
            "--script",
            job["script"],
            "--result",
            str(result_path),
            *(["--dry-run"] if opts.dry_run else []),
            "--",
            "--config_file",
            str(job["config_file"]),
        ]
        timeout = opts.job_timeout_s if opts.dry_run else min(opts.job_timeout_s, left - 5)
        t0 = time.time()
        code, sampler, wall = run_child(cmd, log_path, timeout, env, sample=not opts.dry_run)
        driver: dict[str, Any] = {}
        if result_path.is_file():
            driver = json.loads(result_path.read_text(encoding="utf-8"))
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        meta = job["meta"]

        if opts.dry_run:
            status = driver.get("status", "refused") if code is not None else "timeout"
            error = driver.get("error")
            if status != "accepted":
                detail = last_error_line(log_text)
                error = f"{error} | {detail}" if error and detail and detail not in error else (error or detail)
            entry = {
                "id": job["id"],
                "preset_id": meta.get("preset_id"),
                "script": job["script"],
                "status": status,
                "error": error,
                "stage": driver.get("stage"),
                "dataset": driver.get("dataset"),
                "optimizer": driver.get("optimizer"),
                "log": str(log_path),
            }
            dry_results.append(entry)
            line = f"[{job['id']}] {status} ({job['script']}, {wall:.0f}s)"
            if status == "accepted":
                ds = driver.get("dataset") or {}
                line += f": {ds.get('num_train_images')} images, {ds.get('batches')} batches"
            else:
                line += f": {error}"
            print(line, flush=True)
            continue

        progress = parse_progress(log_text)
        steady = steady_rate(driver.get("step_times", []))
        status = driver.get("status") or ("timeout" if code is None else ("ok" if code == 0 else "failed"))
        if code is None:
            status = "timeout"
        if progress["out_of_memory"]:
            status = "oom"
        sampled = sampler is not None and sampler.samples > 0
        record = {
            "version": 1,
            "id": job["id"],
            "preset_id": meta.get("preset_id"),
            "preset_hash": meta.get("preset_hash"),
            "question": meta.get("question"),
            "script": job["script"],
            "status": status,
            "error": driver.get("error") or (None if status == "ok" else last_error_line(log_text)),
            "gpu": gpu,
            "torch": driver.get("torch_version"),
            "cuda": driver.get("cuda_version"),
            "sd_scripts": sd_version,
            "resolution": job["resolution"],
            "batch_size": job["batch_size"],
            "steps_requested": job["steps"],
            "steps_done": (progress["last"] or {}).get("step"),
            "settings": job["settings"],
            # No samples (no NVML, no nvidia-smi) means unknown, not zero.
            "peak_nvidia_smi_process_mib": round(sampler.peak_process_mib, 1) if sampled else None,
            "peak_nvidia_smi_all_processes_mib": round(sampler.peak_all_processes_mib, 1) if sampled else None,
            "peak_device_used_mib": round(sampler.peak_device_used_mib, 1) if sampled else None,
            "memory_samples": sampler.samples if sampler else 0,
            "memory_source": sampler.source if sampler else None,
            "memory_sampler_error": sampler.error if sampler else None,
            "torch_max_allocated_mib": mib(driver.get("torch_max_allocated_bytes")),
            "torch_max_reserved_mib": mib(driver.get("torch_max_reserved_bytes")),
            "it_per_s_steady": round(steady, 4) if steady else None,
            "it_per_s_tqdm": (progress["last"] or {}).get("it_per_s"),
            "avr_loss": (progress["last"] or {}).get("avr_loss"),
            "prediction": meta.get("prediction"),
            # The trace of sd-scripts' model code for this job (bundle time, CPU): compare its
            # allocated_peak_gib with torch_max_allocated_mib above.
            "trace": meta.get("trace"),
            "wall_s": round(wall, 1),
            "started_at": t0,
            "ended_at": time.time(),
        }
        if opts.parse_log_cmd:
            record["parsed_log"] = parse_with_app(opts.parse_log_cmd, log_path)
        keep_log = opts.logs or opts.out.parent / "logs"
        keep_log.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, keep_log / f"{job['id']}.log")
        append_record(opts.out, record)
        print(
            f"[{job['id']}] {status}: smi {record['peak_nvidia_smi_process_mib']} MiB, "
            f"alloc {record['torch_max_allocated_mib']} MiB, reserved {record['torch_max_reserved_mib']} MiB, "
            f"{record['it_per_s_steady']} it/s, {wall:.0f}s",
            flush=True,
        )
        # Free the disk: synthetic data and outputs of this job are no longer needed.
        shutil.rmtree(job["dir"] / "output", ignore_errors=True)

    if opts.dry_run:
        accepted = sum(1 for r in dry_results if r["status"] == "accepted")
        opts.out.write_text(json.dumps({"sd_scripts": sd_version, "jobs": dry_results}, indent=2), encoding="utf-8")
        print(f"dry run: {accepted} accepted, {len(dry_results) - accepted} refused of {len(dry_results)}")
        return 0 if accepted == len(dry_results) else 1
    return 0


def finished_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    if not path.is_file():
        return ids
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut off by a killed run
        if rec.get("status") in ("ok", "oom"):
            ids.add(str(rec.get("id")))
    return ids


def parse_with_app(command: str, log_path: Path) -> Any:
    """The app's log parser (core/runs) through its CLI; the Python fallback above always runs too."""
    import shlex

    try:
        r = subprocess.run(
            [a.replace("{log}", str(log_path)) for a in shlex.split(command)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr[-500:]}
    except Exception as e:  # noqa: BLE001 - optional extra; never fails the measurement
        return {"error": f"{type(e).__name__}: {e}"}


def mib(value: Any) -> float | None:
    return round(value / 2**20, 1) if isinstance(value, (int, float)) else None


def last_error_line(log_text: str) -> str | None:
    """The most telling line of a failed run: the last exception or error line."""
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", log_text) if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"(Error|error:|Exception|Invalid|not found|No data found)", ln):
            return ln[-600:]
    return lines[-1][-600:] if lines else None


if __name__ == "__main__":
    sys.exit(main())
