"""Download official EVA-CLIP weights (needs internet; this project's build machines have none).

Resumable (HTTP Range into a ``.part`` file), checked against the published byte size, and renamed into place only when
complete, so an interrupted download never leaves a file that looks finished. Offline it fails within seconds with a
message that says what to do instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

from .config import load_config

DEFAULT_HUB = os.environ.get("EVA_LENS_HUB_URL", "https://huggingface.co")

# Published files: repo, file name and byte size (LFS pointers; see shared/reference/eva-clip-facts.md §2).
OFFICIAL = {
    "EVA02-CLIP-B-16": ("QuanSun/EVA-CLIP", "EVA02_CLIP_B_psz16_s8B.pt", 299_522_626),
    "EVA02-CLIP-L-14": ("QuanSun/EVA-CLIP", "EVA02_CLIP_L_psz14_s4B.pt", 855_723_930),
    "EVA02-CLIP-L-14-336": ("QuanSun/EVA-CLIP", "EVA02_CLIP_L_336_psz14_s6B.pt", 856_461_210),
}


class DownloadError(RuntimeError):
    pass


def source_for(arch: str, layout: str) -> tuple[str, str, int | None]:
    """(repo, file, expected bytes or None) for an architecture in 'official' or 'open_clip' layout."""
    config = load_config(arch)
    if layout == "official":
        if arch not in OFFICIAL:
            raise DownloadError(f"no official EVA-CLIP file is known for {arch}")
        return OFFICIAL[arch]
    if layout == "open_clip":
        repo = config.published.get("hub_repo")
        if not repo:
            raise DownloadError(f"no open_clip hub repo is known for {arch}")
        return repo, "open_clip_model.safetensors", None
    raise DownloadError(f"unknown layout '{layout}' (use 'official' or 'open_clip')")


def download(arch: str, layout: str, out_dir: Path, hub: str = DEFAULT_HUB, timeout_s: float = 15.0, log=print) -> Path:
    repo, name, expected = source_for(arch, layout)
    url = f"{hub.rstrip('/')}/{repo}/resolve/main/{name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    final, part = out_dir / name, out_dir / (name + ".part")
    if final.exists() and (expected is None or final.stat().st_size == expected):
        log(f"{final} already present")
        return final
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    log(f"downloading {url}" + (f" (resuming at {have} bytes)" if have else ""))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            if have and response.status != 206:
                have = 0  # the server ignored the Range header: start over
            with open(part, "ab" if have else "wb") as f:
                shutil.copyfileobj(response, f, length=1 << 20)
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(
            f"could not download {url}: {reason}. If this machine has no internet access, download the file on one "
            f"that does and run `npm run models -- convert --checkpoint <file> --arch {arch} --out <folder>`. "
            f"A partial download in {part} will be resumed next time."
        ) from None
    size = part.stat().st_size
    if expected is not None and size != expected:
        raise DownloadError(f"{name}: got {size} bytes, expected {expected}; run the command again to resume")
    part.rename(final)
    return final
