"""Publishing a finished build: checksums of its files, the atomic switch, pruning old builds.

A build is written under ``.builds/<stamp>.partial``, renamed to ``.builds/<stamp>`` once its
manifest is written, and published by atomically replacing the ``build`` symlink, so an interrupted
build (SIGKILL included: ``tests/test_build_faults.py``) leaves the previous one in place and usable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

from .cache import sha256_file
from .config import Config
from .manifest import BuildManifest, try_read_manifest
from .stores import drop_store

KEEP_BUILDS = 2  # the new build and the previous one, which readers may still hold open
PARTIAL_HOURS = 1  # a .partial directory older than this is a killed build's leftover
# Files that change while a store is open, or that say nothing about its content.
_UNCHECKED = ("LOCK", "LOG")


def new_build_dir(versions: Path, stamp: str) -> tuple[Path, Path]:
    """A fresh (final, partial) pair of directory names under ``versions``; the partial one is created."""
    versions.mkdir(parents=True, exist_ok=True)
    work = versions / f"{stamp}-{os.getpid()}"
    n = 1
    while work.exists() or work.with_name(work.name + ".partial").exists():
        n += 1  # a second build within the same second
        work = versions / f"{stamp}-{os.getpid()}-{n}"
    tmp = work.with_name(work.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return work, tmp


def publish(target: Path, work: Path) -> None:
    """Point ``target`` at ``work`` in one atomic rename."""
    link = target.with_name(f".{target.name}.link-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(os.path.relpath(work, target.parent))
    if target.exists() and not target.is_symlink():
        # an old-style real directory: move it aside into .builds (kept as a previous build)
        target.rename(work.parent / f"legacy-{int(time.time())}")
    os.replace(link, target)


def prune(versions: Path, keep: set[str], config: Config | None = None) -> None:
    """Keep the newest builds (readers may still hold the previous one open); drop partial leftovers.

    A dropped build that lived on a SPARQL server also has its named graph dropped there.
    """
    entries = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    complete = [p for p in entries if not p.name.endswith(".partial")]
    for p in complete[KEEP_BUILDS:]:
        if p.name not in keep:
            manifest = try_read_manifest(p)
            if manifest is not None and config is not None:
                with contextlib.suppress(Exception):
                    drop_store(config, manifest.store)
            shutil.rmtree(p, ignore_errors=True)
    for p in entries:
        if p.name.endswith(".partial") and time.time() - p.stat().st_mtime > PARTIAL_HOURS * 3600:
            shutil.rmtree(p, ignore_errors=True)


def file_checksums(directory: Path, previous: tuple[Path, BuildManifest | None] | None = None
                   ) -> dict[str, list[Any]]:
    """Size and sha256 of every file of a build (records, store and search index), by relative path.

    ``previous``: the published build and its manifest. A file that is a hard link of one of its
    files (unchanged records, the store's immutable SST files) keeps that file's digest instead of
    being read again: at a thousand plans that is most of the build's bytes.
    """
    prev_dir, prev_manifest = previous or (None, None)
    prev_files: dict[str, list[Any]] = prev_manifest.files if prev_manifest is not None else {}
    out: dict[str, list[Any]] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if not path.is_file() or rel == "manifest.json" or path.name.startswith(_UNCHECKED):
            continue
        st = path.stat()
        known = prev_files.get(rel)
        if known is not None and prev_dir is not None and known[0] == st.st_size:
            with contextlib.suppress(OSError):
                if (prev_dir / rel).stat().st_ino == st.st_ino:
                    out[rel] = [st.st_size, known[1]]
                    continue
        out[rel] = [st.st_size, sha256_file(path)]
    return out
