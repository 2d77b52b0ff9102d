"""What an index holds per task: one document per task, the texts embedded for it, and their hashes.

A task can get several vectors ("views"): its whole text, its text under its chapter and section
titles, and each of its sentences. Long tasks mix several topics, and one whole-text vector blurs
them; a sentence vector keeps the topic a query asks about (the dense score of a task is the best
of its views).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.records import Plan, Task

from .text import split_sentences

FORMAT_VERSION = 4  # 2: per-plan source hashes, tokens.npz; 3: texts in tokens.npz, fixed jieba total;
# 4: flat vectors as vectors.npy (memory-mapped, no faiss to load), jieba's dictionary stored
VIEWS = ("text", "context", "sentences")
DEFAULT_VIEWS: tuple[str, ...] = ("text",)  # measured best with USE (python -m search.evaluate)
# e5 gains from sentence vectors (tuning sets, tuned fusion each: MRR 0.958 → 0.992), USE does not
MODEL_VIEWS: dict[str, tuple[str, ...]] = {"e5-small": ("text", "sentences")}


def default_views(model: str) -> tuple[str, ...]:
    """The views an index of this model embeds unless told otherwise."""
    return MODEL_VIEWS.get(model, DEFAULT_VIEWS)


@dataclass(frozen=True)
class Doc:
    plan: Plan
    task: Task


def documents(plans: Sequence[Plan]) -> list[Doc]:
    return [Doc(p, t) for p in plans for t in p.tasks]


def views_of(doc: Doc, views: Sequence[str]) -> list[str]:
    """The texts embedded for one task (see the module docstring for why several)."""
    out: list[str] = []
    task = doc.task
    if "text" in views:
        out.append(task.text)
    if "context" in views:
        section = doc.plan.section(task.section)
        chapter = doc.plan.chapter(task.chapter)
        head = "；".join(x for x in (chapter.title if chapter else "", section.title if section else "") if x)
        out.append(f"{head}：{task.text}" if head else task.text)
    if "sentences" in views:
        sentences = split_sentences(task.text)
        if len(sentences) > 1 or "text" not in views:
            out.extend(sentences)
    unique = [v for v in dict.fromkeys(out) if v]
    return unique or [task.text or " "]


def unit_words(plans: Sequence[Plan]) -> set[str]:
    """Unit names and aliases of the plans: words the tokenizer must keep whole."""
    words: set[str] = set()
    for plan in plans:
        for unit in plan.units:
            words.add(unit.name)
            words.update(unit.aliases)
        for task in plan.tasks:
            words.update(task.lead_units + task.responsible_units + task.participating_units)
    return {w for w in words if len(w) >= 2}


def plan_hash(plan: Plan, views: Sequence[str]) -> str:
    """Hash of what one plan puts in an index (ids, positions, embedded texts): the part that can be reused."""
    h = hashlib.sha256()
    for doc in documents([plan]):
        h.update(json.dumps([plan.id, doc.task.position, views_of(doc, views)], ensure_ascii=False).encode())
    return h.hexdigest()


def combined_hash(plan_hashes: Iterable[str], *, views: Sequence[str], words: Iterable[str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT_VERSION, "views": list(views)}).encode())
    for ph in plan_hashes:
        h.update(ph.encode())
    h.update("\n".join(sorted(words)).encode())
    return h.hexdigest()


def source_hash(plans: Sequence[Plan], *, views: Sequence[str], words: Iterable[str]) -> str:
    """Hash of everything an index depends on besides the model: texts, titles, dictionary, format.

    Made of one hash per plan, so an index updated plan by plan (``SearchEngine.update``) and one
    built from scratch over the same plans agree.
    """
    return combined_hash((plan_hash(p, views) for p in plans), views=views, words=words)
