"""Saves the two CLIP tokenizers SDXL training loads into sd-scripts' tokenizer cache folder.

sd-scripts (--tokenizer_cache_dir DIR) looks for DIR/<hub id with "/" replaced by "_"> and loads it
offline when present. Filling it at install time lets later training runs work without network.
Honours HF_ENDPOINT (a Hugging Face mirror). Usage: prefill_tokenizers.py --out DIR

Exit codes: 0 both tokenizers saved (or already there), 1 a download failed or transformers is
missing; the last line printed says which tokenizer, from where, and what to do.
"""

import argparse
import os
import shutil
import sys

TOKENIZERS = ["openai/clip-vit-large-patch14", "laion/CLIP-ViT-bigG-14-laion2B-39B-b160k"]


def first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, " ".join(text.split("\n")[:3]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    # Only the tokenizer is needed: keep transformers from importing torch (seconds with a CUDA
    # build, and a torch that fails to load must not fail this step; verify reports torch itself).
    for framework in ("USE_TORCH", "USE_TF", "USE_FLAX"):
        os.environ[framework] = "0"
    try:
        from transformers import CLIPTokenizer  # noqa: PLC0415
    except ImportError as exc:
        # sd-scripts' requirements install transformers; without it training cannot start either.
        print(
            "transformers does not import in this environment (%s), so the tokenizers cannot be saved. "
            "sd-scripts' requirements install it: run Verify, then Repair." % first_line(exc),
            file=sys.stderr,
        )
        return 1
    os.makedirs(args.out, exist_ok=True)
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    print("Using Hugging Face endpoint %s" % endpoint)
    for hub_id in TOKENIZERS:
        target = os.path.join(args.out, hub_id.replace("/", "_"))
        if os.path.isfile(os.path.join(target, "tokenizer_config.json")):
            print("already cached: %s" % target)
            continue
        print("downloading tokenizer %s" % hub_id)
        try:
            tok = CLIPTokenizer.from_pretrained(hub_id)
        except Exception as exc:  # noqa: BLE001 - every download failure gets the same advice
            print(
                "Could not download the tokenizer %s from %s: %s\n"
                "Check the network or the Hugging Face endpoint (--hf-endpoint: a mirror must serve %s), "
                "then press Resume." % (hub_id, endpoint, first_line(exc), hub_id),
                file=sys.stderr,
            )
            return 1
        tmp = target + ".partial"
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        tok.save_pretrained(tmp)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(tmp, target)
        print("saved %s" % target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
