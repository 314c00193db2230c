"""Reports what a Python environment for sd-scripts contains, as one JSON document.

Runs inside the environment's venv with the standard library only, so it works on a broken
environment too. Usage: probe.py --sd-scripts DIR [--out FILE] [--light]
--light skips the heavy imports (torch and sd-scripts' training scripts).
"""

import argparse
import importlib
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
import traceback

PACKAGES = [
    "torch",
    "torchvision",
    "xformers",
    "bitsandbytes",
    "lycoris-lora",
    "dadaptation",
    "accelerate",
    "transformers",
    "diffusers",
    "safetensors",
]

REQ_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?:==\s*([^\s;#,]+))?")


def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
    except Exception:  # a corrupt dist-info must not stop the probe
        return None


def short_error(exc):
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[-800:]


def check_requirements(src):
    path = os.path.join(src, "requirements.txt")
    result = {"file": None, "checked": 0, "missing": [], "mismatched": []}
    if not os.path.isfile(path):
        return result
    result["file"] = path
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            m = REQ_LINE.match(line)
            if not m:
                continue
            name, pin = m.group(1), m.group(3)
            result["checked"] += 1
            have = installed_version(name)
            if have is None:
                result["missing"].append(name)
            elif pin is not None and have.split("+")[0] != pin:
                result["mismatched"].append({"name": name, "required": pin, "installed": have})
    return result


def sd_scripts_version(src):
    info = {"path": src, "exists": os.path.isdir(src), "tag": None, "commit": None}
    if not info["exists"]:
        return info
    for key, args in (("tag", ["describe", "--tags", "--exact-match"]), ("commit", ["rev-parse", "HEAD"])):
        try:
            out = subprocess.run(
                ["git", "-C", src] + args, capture_output=True, text=True, timeout=15
            )
            if out.returncode == 0 and out.stdout.strip():
                info[key] = out.stdout.strip()
        except Exception:
            pass
    if info["tag"] is None:
        # Installs without git record the tag next to the checkout.
        marker = os.path.join(src, ".sdxl-studio-version")
        if os.path.isfile(marker):
            with open(marker, encoding="utf-8") as f:
                info["tag"] = f.read().strip() or None
    return info


def check_library(src):
    try:
        mod = importlib.import_module("library")
        return {"importable": True, "error": None, "path": getattr(mod, "__file__", None)}
    except BaseException as exc:  # SystemExit from a broken package counts as broken too
        return {"importable": False, "error": short_error(exc), "path": None}


def check_torch():
    info = {
        "imported": False,
        "error": None,
        "version": None,
        "cuda_available": False,
        "cuda_version": None,
        "torchvision_version": None,
        "torchvision_error": None,
        "devices": [],
    }
    try:
        import torch  # noqa: PLC0415 (heavy; only when asked)

        info["imported"] = True
        info["version"] = torch.__version__
        info["cuda_version"] = torch.version.cuda
        info["cuda_available"] = bool(torch.cuda.is_available())
        if info["cuda_available"]:
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                info["devices"].append(
                    {
                        "name": p.name,
                        "memory_bytes": int(p.total_memory),
                        "capability": "%d.%d" % (p.major, p.minor),
                    }
                )
    except BaseException as exc:
        info["error"] = short_error(exc)
        return info
    # sd-scripts imports torchvision too; a torch without its torchvision cannot train.
    try:
        import torchvision  # noqa: PLC0415

        info["torchvision_version"] = getattr(torchvision, "__version__", None)
    except BaseException as exc:
        info["torchvision_error"] = short_error(exc)
    return info


def check_training_scripts(src, names):
    results = []
    for name in names:
        if not os.path.isfile(os.path.join(src, name + ".py")):
            results.append({"name": name, "ok": False, "error": "%s.py is missing" % name})
            continue
        try:
            importlib.import_module(name)
            results.append({"name": name, "ok": True, "error": None})
        except BaseException as exc:
            results.append({"name": name, "ok": False, "error": short_error(exc)})
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sd-scripts", required=True)
    parser.add_argument("--out")
    parser.add_argument("--light", action="store_true")
    parser.add_argument(
        "--scripts", default="sdxl_train_network,sdxl_train", help="training scripts to import"
    )
    args = parser.parse_args()
    src = os.path.abspath(args.sd_scripts)
    if os.path.isdir(src):
        sys.path.insert(0, src)
        os.chdir(src)

    report = {
        "schema": 1,
        "light": bool(args.light),
        "python": {
            "version": "%d.%d.%d" % sys.version_info[:3],
            "executable": sys.executable,
            "prefix": sys.prefix,
            "in_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        },
        "packages": {canon(p): installed_version(p) for p in PACKAGES},
        "requirements": check_requirements(src),
        "sd_scripts": sd_scripts_version(src),
        "library": check_library(src),
        "torch": None,
        "training_scripts": None,
    }
    if not args.light:
        report["torch"] = check_torch()
        names = [n for n in args.scripts.split(",") if n]
        report["training_scripts"] = check_training_scripts(src, names)

    text = json.dumps(report)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.out)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
