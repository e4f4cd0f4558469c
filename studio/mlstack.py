"""Import the machine-learning stack once, one thread at a time.

transformers resolves its names lazily on first use, and two worker threads doing that at once can see a half
imported module ("cannot import name 'AutoTokenizer'"). Every path that loads a tokenizer, processor or model
calls `import_ml_stack()` first; after the first call it costs nothing.

The import creates about a million long-lived Python objects (modules, classes, functions). They are moved out of
the cyclic garbage collector's reach (``gc.freeze``): otherwise every later full collection walks them all, holding
the GIL long enough to freeze the window.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

_lock = threading.Lock()
_imported = False
_renderer: Callable[..., tuple[list[str], list]] | None = None
# The transformers names VLM Studio uses, resolved together under the lock.
NAMES = ("AutoConfig", "AutoProcessor", "AutoTokenizer", "BatchFeature", "BitsAndBytesConfig", "DynamicCache",
         "GenerationConfig", "StoppingCriteria", "StoppingCriteriaList", "PreTrainedModel")


def import_ml_stack() -> None:
    global _imported
    if _imported:
        return
    with _lock:
        if _imported:
            return
        import torch  # noqa: F401
        import transformers

        for name in NAMES:
            getattr(transformers, name)
        gc.freeze()
        _imported = True


def import_chat_template_renderer() -> Callable[..., tuple[list[str], list]]:
    """transformers' ``render_jinja_template``: its package and utilities only, not torch (about a second), under
    the same lock as `import_ml_stack` (a thread importing transformers while another imports the stack saw it half
    imported: "module 'transformers' has no attribute 'AutoConfig'")."""
    global _renderer
    with _lock:
        if _renderer is None:
            from transformers.utils.chat_template_utils import render_jinja_template

            gc.freeze()
            _renderer = render_jinja_template
    return _renderer
