#!/usr/bin/env python3
"""Generate the two CLIP tokenizer folders that sd-scripts' --tokenizer_cache_dir expects.

sd-scripts (library/strategy_sdxl.py) loads `openai/clip-vit-large-patch14` and
`laion/CLIP-ViT-bigG-14-laion2B-39B-b160k` with transformers' CLIPTokenizer. With
--tokenizer_cache_dir D it first looks for D/<model id with "/" replaced by "_">, so two
folders in the format CLIPTokenizer.from_pretrained reads let it run with no network.

Both SDXL tokenizers share CLIP's byte-level BPE vocabulary, which ships inside the
`open-clip-torch` wheel on PyPI (open_clip/bpe_simple_vocab_16e6.txt.gz). This script reads
that file (from the wheel or the .gz itself), builds vocab.json and merges.txt from it, and
writes the tokenizer and special-token settings of each model. The two folders differ only in
the pad token: "<|endoftext|>" for the OpenAI one, "!" (id 0) for the LAION one.

Usage:
  make_tokenizers.py --source open_clip_torch-3.3.0-py3-none-any.whl --out DIR [--check]
  make_tokenizers.py --check-only --out DIR

The install's tokenizer step (prefill_tokenizers.py, beside this file) uses it when the Hugging Face
endpoint cannot be reached; the GPU harness uses it for its bundle.

Standard library only for generation; --check uses transformers' CLIPTokenizer when it can be
imported (the class sd-scripts uses) and otherwise a small BPE encoder of our own.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

VOCAB_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
# sha256 of the .gz in open-clip-torch 3.3.0; other releases ship the same file so far.
KNOWN_VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"

# CLIP's vocabulary: 256 byte symbols, the same 256 with the end-of-word marker, the merges,
# then two special tokens. 49408 in all; the merges used are the first 49152 - 256 - 2.
NUM_MERGES = 49152 - 256 - 2
VOCAB_SIZE = 49408
BOS = "<|startoftext|>"
EOS = "<|endoftext|>"

TOKENIZER_DIRS = {
    # folder name (sd-scripts: model id with "/" -> "_") -> pad token
    "openai_clip-vit-large-patch14": EOS,
    "laion_CLIP-ViT-bigG-14-laion2B-39B-b160k": "!",
}

# Known encodings of CLIP's tokenizer (start 49406, end 49407).
KNOWN_IDS = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
    "a photo of a dog": [49406, 320, 1125, 539, 320, 1929, 49407],
}


def byte_order() -> list[int]:
    """Bytes in CLIP's vocabulary order: printable Latin-1 bytes first, then the others."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    return printable + [b for b in range(256) if b not in printable]


def byte_symbols() -> list[str]:
    """The printable stand-in of each byte, in byte_order(): printable bytes stand for
    themselves, the others get code points from 256 upwards in byte order."""
    printable_count = 188
    order = byte_order()
    return [chr(b) for b in order[:printable_count]] + [chr(256 + i) for i in range(256 - printable_count)]


def read_vocab_gz(source: Path) -> bytes:
    """The compressed BPE file, from a wheel (zip) or the .gz itself."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            try:
                return wheel.read(VOCAB_MEMBER)
            except KeyError:
                raise SystemExit(
                    f"{source} has no {VOCAB_MEMBER}. Give an open-clip-torch wheel "
                    "(pip download --no-deps open-clip-torch) or the .gz file itself."
                ) from None
    return source.read_bytes()


def build_vocab(gz_bytes: bytes) -> tuple[dict[str, int], list[str]]:
    lines = gzip.decompress(gz_bytes).decode("utf-8").split("\n")
    merges = lines[1 : NUM_MERGES + 1]
    if len(merges) != NUM_MERGES or any(len(m.split()) != 2 for m in merges):
        raise SystemExit("The BPE file does not look like CLIP's (expected 48894 merge lines of two symbols).")
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges] + [BOS, EOS]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != VOCAB_SIZE:
        raise SystemExit(f"Built {len(vocab)} distinct tokens, expected {VOCAB_SIZE}.")
    return vocab, merges


def special(content: str) -> dict[str, object]:
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": True,
    }


def write_folder(folder: Path, vocab: dict[str, int], merges: list[str], pad: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    special_map = {"bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": pad}
    (folder / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2) + "\n", encoding="utf-8")
    added = {str(vocab[t]): special(t) for t in sorted({BOS, EOS, pad}, key=lambda t: vocab[t])}
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": 77,
        "do_lower_case": True,
        "errors": "replace",
        "clean_up_tokenization_spaces": True,
        "bos_token": BOS,
        "eos_token": EOS,
        "unk_token": EOS,
        "pad_token": pad,
        "added_tokens_decoder": added,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# --- checking ------------------------------------------------------------------------------

WORD_RE = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+", re.IGNORECASE)


def bpe_encode(folder: Path, text: str) -> list[int]:
    """A plain BPE encoder over vocab.json/merges.txt, for checking without transformers."""
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    merge_lines = (folder / "merges.txt").read_text(encoding="utf-8").split("\n")[1:]
    ranks = {tuple(m.split()): i for i, m in enumerate(merge_lines) if m}
    to_symbol = dict(zip(byte_order(), byte_symbols()))
    ids = [vocab[BOS]]
    for word in WORD_RE.findall(" ".join(text.lower().split())):
        parts = [to_symbol[b] for b in word.encode("utf-8")]
        parts[-1] += "</w>"
        while len(parts) > 1:
            pairs = [(ranks.get((parts[i], parts[i + 1]), 1 << 30), i) for i in range(len(parts) - 1)]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        ids.extend(vocab[p] for p in parts)
    ids.append(vocab[EOS])
    return ids


def check(out: Path) -> list[str]:
    """Return a list of problems (empty when the folders give the known ids)."""
    problems: list[str] = []
    try:
        from transformers import CLIPTokenizer  # type: ignore[import-not-found]

        engine = "transformers.CLIPTokenizer"
    except Exception:  # noqa: BLE001 - any import failure means: use our own encoder
        CLIPTokenizer = None  # noqa: N806
        engine = "stdlib BPE (transformers not importable)"
    for name, pad in TOKENIZER_DIRS.items():
        folder = out / name
        if not (folder / "vocab.json").is_file():
            problems.append(f"{folder} has no vocab.json; run make_tokenizers.py --out {out}")
            continue
        if CLIPTokenizer is not None:
            tok = CLIPTokenizer.from_pretrained(str(folder))
            encode = lambda s, t=tok: list(t(s)["input_ids"])  # noqa: E731
            pad_id = tok.pad_token_id
            if tok.model_max_length != 77:
                problems.append(f"{name}: model_max_length {tok.model_max_length}, expected 77")
            if len(tok) != VOCAB_SIZE:
                problems.append(f"{name}: {len(tok)} tokens, expected {VOCAB_SIZE}")
        else:
            encode = lambda s, f=folder: bpe_encode(f, s)  # noqa: E731
            pad_id = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))[pad]
        for text, expected in KNOWN_IDS.items():
            got = encode(text)
            if got != expected:
                problems.append(f"{name}: {text!r} -> {got}, expected {expected}")
        expected_pad = 0 if pad == "!" else 49407
        if pad_id != expected_pad:
            problems.append(f"{name}: pad id {pad_id}, expected {expected_pad}")
    print(f"check ({engine}): {'ok' if not problems else 'FAILED'}")
    for p in problems:
        print("  " + p)
    return problems


def generate(source: Path, out: Path) -> None:
    """Writes both tokenizer folders into `out` from a wheel or the .gz (SystemExit with the reason on bad input)."""
    gz = read_vocab_gz(source)
    digest = hashlib.sha256(gz).hexdigest()
    if digest != KNOWN_VOCAB_SHA256:
        print(f"note: vocabulary sha256 {digest} differs from the one checked before; the id check decides.")
    vocab, merges = build_vocab(gz)
    for name, pad in TOKENIZER_DIRS.items():
        write_folder(out / name, vocab, merges, pad)
        print(f"wrote {out / name}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="open-clip-torch wheel, or bpe_simple_vocab_16e6.txt.gz")
    ap.add_argument("--out", type=Path, required=True, help="tokenizer cache dir to fill")
    ap.add_argument("--check", action="store_true", help="check the result against known token ids")
    ap.add_argument("--check-only", action="store_true", help="only check an existing folder")
    args = ap.parse_args(argv)

    if not args.check_only:
        if args.source is None or not args.source.is_file():
            print(
                f"No BPE source at {args.source}. Download the wheel with "
                "`pip download --no-deps --only-binary=:all: open-clip-torch==3.3.0 -d DIR` and pass it with --source.",
                file=sys.stderr,
            )
            return 2
        generate(args.source, args.out)
    if args.check or args.check_only:
        return 1 if check(args.out) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
