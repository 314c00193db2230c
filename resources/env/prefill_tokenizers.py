"""Saves the two CLIP tokenizers SDXL training loads into sd-scripts' tokenizer cache folder.

sd-scripts (--tokenizer_cache_dir DIR) looks for DIR/<hub id with "/" replaced by "_"> and loads it
offline when present. Filling it at install time lets later training runs work without network.
Honours HF_ENDPOINT (a Hugging Face mirror). Usage: prefill_tokenizers.py --out DIR
"""

import argparse
import os
import sys

TOKENIZERS = ["openai/clip-vit-large-patch14", "laion/CLIP-ViT-bigG-14-laion2B-39B-b160k"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        from transformers import CLIPTokenizer  # noqa: PLC0415
    except ImportError:
        print("transformers is not installed in this environment; skipping the tokenizer cache.")
        return 0
    os.makedirs(args.out, exist_ok=True)
    endpoint = os.environ.get("HF_ENDPOINT")
    if endpoint:
        print("Using Hugging Face endpoint %s" % endpoint)
    for hub_id in TOKENIZERS:
        target = os.path.join(args.out, hub_id.replace("/", "_"))
        if os.path.isfile(os.path.join(target, "tokenizer_config.json")):
            print("already cached: %s" % target)
            continue
        print("downloading tokenizer %s" % hub_id)
        tok = CLIPTokenizer.from_pretrained(hub_id)
        tmp = target + ".partial"
        tok.save_pretrained(tmp)
        if os.path.isdir(target):
            import shutil  # noqa: PLC0415

            shutil.rmtree(target)
        os.replace(tmp, target)
        print("saved %s" % target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
