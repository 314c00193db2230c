"""Saves the two CLIP tokenizers SDXL training loads into sd-scripts' tokenizer cache folder.

sd-scripts (--tokenizer_cache_dir DIR) looks for DIR/<hub id with "/" replaced by "_"> and loads it
offline when present. Filling it at install time lets later training runs work without network.

Two ways, tried in this order:
1. Hugging Face: when its endpoint answers (HF_ENDPOINT, a mirror, or huggingface.co) and transformers
   imports, each tokenizer is downloaded and saved with transformers' CLIPTokenizer.
2. Offline: both SDXL tokenizers share CLIP's BPE vocabulary, which ships inside the open-clip-torch
   wheel on PyPI. The wheel is fetched from the package index (--index-url: PyPI or its mirror), the
   folders are built by make_tokenizers.py (beside this file) and checked against known token ids.
A tokenizer the endpoint cannot give (unreachable, or a mirror without that repository) is built the
second way. The log says which way each took; <out>/source.json records it.

Usage: prefill_tokenizers.py --out DIR [--index-url URL] [--downloads DIR]
Exit codes: 0 both tokenizers saved (or already there); 1 neither way worked (the last lines say why
and what to do). Standard library only, apart from transformers for the first way.
"""

import argparse
import base64
import hashlib
import html.parser
import json
import netrc
import os
import re
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import make_tokenizers  # beside this file (sys.path[0])

TOKENIZERS = {
    "openai/clip-vit-large-patch14": "openai_clip-vit-large-patch14",
    "laion/CLIP-ViT-bigG-14-laion2B-39B-b160k": "laion_CLIP-ViT-bigG-14-laion2B-39B-b160k",
}
# The open-clip-torch release whose vocabulary make_tokenizers.py was checked with; another release
# is taken when the index lacks it (the id check decides).
OPEN_CLIP_VERSION = "3.3.0"
TIMEOUT_S = 15


def first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, " ".join(text.split("\n")[:3]))


def netrc_authorization(url):
    """Basic auth for the URL's host from the netrc file (NETRC, else ~/.netrc), as pip and uv use it:
    the install puts a mirror's user name and password there, never in an address or argv."""
    host = urllib.parse.urlsplit(url).hostname
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not host or not os.path.isfile(path):
        return None
    try:
        found = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not found:
        return None
    login, _, password = found
    return "Basic " + base64.b64encode(("%s:%s" % (login or "", password or "")).encode("utf-8")).decode("ascii")


class _SameHostRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect to another host (a mirror's file server) does not get the mirror's password."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_SameHostRedirect)  # proxies from the environment, as urlopen


def open_url(url, timeout, headers=None, method=None):
    req = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    auth = netrc_authorization(url)
    if auth:
        req.add_header("Authorization", auth)
    return _OPENER.open(req, timeout=timeout)


def cached(target):
    return os.path.isfile(os.path.join(target, "tokenizer_config.json"))


def endpoint_answers(endpoint):
    """True when the endpoint's server answers at all (any HTTP status counts): it is reachable."""
    try:
        open_url(endpoint, TIMEOUT_S, method="HEAD").close()
        return True, None
    except urllib.error.HTTPError:
        return True, None
    except Exception as exc:  # noqa: BLE001 - DNS, refused, timeout, TLS: all mean "cannot reach"
        return False, first_line(exc)


def from_hugging_face(CLIPTokenizer, hub_id, target):  # noqa: N803
    tok = CLIPTokenizer.from_pretrained(hub_id)
    tmp = target + ".partial"
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    tok.save_pretrained(tmp)
    if os.path.isdir(target):
        shutil.rmtree(target)
    os.replace(tmp, target)


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def wheel_links(index_url):
    """Wheel links of open-clip-torch on a PEP 503 index (http(s) or a file:// folder)."""
    page = index_url.rstrip("/") + "/open-clip-torch/"
    if page.startswith("file://"):
        folder = urllib.request.url2pathname(urllib.parse.urlparse(page).path)
        text = Path(folder, "index.html").read_text(encoding="utf-8")
    else:
        with open_url(page, TIMEOUT_S, headers={"Accept": "text/html"}) as r:
            text = r.read().decode("utf-8", "replace")
    parser = _Links()
    parser.feed(text)
    out = []
    for href in parser.links:
        url = urllib.parse.urljoin(page, href)
        name = urllib.parse.unquote(urllib.parse.urlparse(url).path.rsplit("/", 1)[-1])
        m = re.match(r"^open_clip_torch-([^-]+)-py3-none-any\.whl$", name)
        if m:
            out.append((m.group(1), name, url))
    return out


def version_key(v):
    return [int(p) if p.isdigit() else 0 for p in re.split(r"[.+-]", v)]


def fetch_wheel(index_url, downloads):
    """The open-clip-torch wheel: already downloaded, or fetched from the index (sha256 checked)."""
    os.makedirs(downloads, exist_ok=True)
    have = sorted(Path(downloads).glob("open_clip_torch-*-py3-none-any.whl"))
    if have:
        return have[-1], "already downloaded"
    links = wheel_links(index_url)
    if not links:
        raise RuntimeError("the index lists no open-clip-torch wheel at %s/open-clip-torch/" % index_url.rstrip("/"))
    pinned = [l for l in links if l[0] == OPEN_CLIP_VERSION]
    version, name, url = (pinned or sorted(links, key=lambda l: version_key(l[0])))[-1]
    expected = urllib.parse.parse_qs(urllib.parse.urlparse(url).fragment).get("sha256", [None])[0]
    target = Path(downloads, name)
    tmp = Path(downloads, name + ".partial")
    with open_url(url.split("#", 1)[0], TIMEOUT_S * 4) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if expected and digest != expected:
        tmp.unlink()
        raise RuntimeError("%s: sha256 %s, the index says %s" % (name, digest, expected))
    os.replace(tmp, target)
    return target, "open-clip-torch %s from %s" % (version, index_url)


def offline(missing, out, index_url, downloads):
    """Builds the missing folders from the open-clip-torch wheel, checked before they are put in place."""
    wheel, origin = fetch_wheel(index_url, downloads)
    staging = Path(out, ".offline-build")
    if staging.exists():
        shutil.rmtree(staging)
    make_tokenizers.generate(wheel, staging)
    problems = make_tokenizers.check(staging)
    if problems:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError("the tokenizers built from %s gave wrong token ids: %s" % (wheel.name, "; ".join(problems)))
    for hub_id in missing:
        folder = TOKENIZERS[hub_id]
        target = Path(out, folder)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / folder, target)
        print("saved %s (built offline)" % target)
    shutil.rmtree(staging, ignore_errors=True)
    return "built offline from the open-clip-torch wheel (%s, %s), token ids checked" % (wheel.name, origin)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--downloads", help="where the open-clip-torch wheel is kept (default: <out>/../downloads)")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    downloads = args.downloads or os.path.join(os.path.dirname(out), "downloads")
    # Only the tokenizer is needed: keep transformers from importing torch (seconds with a CUDA
    # build, and a torch that fails to load must not fail this step; verify reports torch itself).
    for framework in ("USE_TORCH", "USE_TF", "USE_FLAX"):
        os.environ[framework] = "0"
    os.makedirs(out, exist_ok=True)
    record_file = os.path.join(out, "source.json")
    try:
        with open(record_file, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = {}

    missing = []
    for hub_id, folder in TOKENIZERS.items():
        if cached(os.path.join(out, folder)):
            print("already cached: %s (%s)" % (folder, record.get(folder, "origin not recorded")))
        else:
            missing.append(hub_id)

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    try:
        from transformers import CLIPTokenizer  # noqa: PLC0415
    except ImportError as exc:
        CLIPTokenizer = None  # noqa: N806
        no_hf = "transformers does not import (%s)" % first_line(exc)
    else:
        no_hf = None
    if missing and no_hf is None:
        reachable, why = endpoint_answers(endpoint)
        if not reachable:
            no_hf = "the Hugging Face endpoint %s cannot be reached (%s)" % (endpoint, why)
    if missing and no_hf is None:
        print("Using Hugging Face endpoint %s" % endpoint)
        for hub_id in list(missing):
            folder = TOKENIZERS[hub_id]
            print("downloading tokenizer %s" % hub_id)
            try:
                from_hugging_face(CLIPTokenizer, hub_id, os.path.join(out, folder))
            except Exception as exc:  # noqa: BLE001 - the offline way is tried next
                print("Hugging Face could not give %s (%s); it will be built offline." % (hub_id, first_line(exc)))
                continue
            missing.remove(hub_id)
            record[folder] = "downloaded from Hugging Face (%s)" % endpoint
            print("saved %s (from Hugging Face)" % os.path.join(out, folder))
    elif missing:
        print("Not using Hugging Face: %s. Building the tokenizers offline." % no_hf)

    if missing:
        try:
            way = offline(missing, out, args.index_url, downloads)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - every failure gets the same advice
            print(
                "Could not save the tokenizers %s: Hugging Face %s, and building them offline failed: %s\n"
                "Check the network, or set a Hugging Face mirror (--hf-endpoint) or a PyPI mirror that has "
                "open-clip-torch (--index-url), then press Resume."
                % (", ".join(missing), "was not usable" if no_hf is None else "was not used (%s)" % no_hf, first_line(exc)),
                file=sys.stderr,
            )
            return 1
        for hub_id in missing:
            record[TOKENIZERS[hub_id]] = way
    tmp = record_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, record_file)
    for folder in TOKENIZERS.values():
        print("tokenizers: %s: %s" % (folder, record.get(folder, "origin not recorded")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
