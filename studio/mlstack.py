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

_lock = threading.Lock()
_imported = False
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
