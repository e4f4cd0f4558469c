"""Consent to run a model folder's own Python code (transformers' ``trust_remote_code``).

No code from a model folder runs before the user trusted that model's code: `from_pretrained` is the one place in
VLM Studio that passes ``trust_remote_code=True``, and only for a catalog entry that needs it and whose folder's
code the user trusted (`trust`, from ``--trust-remote-code`` or Model > Trust code of this model…). Consent is
kept per model id and revision in the user's config folder (``trusted-code.json``); the revision is a hash of the
folder's Python files and of the classes its config files name, so a changed folder, a planted module included,
needs consent again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.adapters.catalog import CatalogEntry
from studio.files import replaced_atomically
from studio.humanize import count

#: overrides the user's config folder (tests, portable installs)
CONFIG_DIR_ENV = "VLM_STUDIO_CONFIG_DIR"
CONSENT_FILE = "trusted-code.json"
#: how to consent, for messages
HOW_TO_CONSENT = 'run the command with --trust-remote-code, or in the window use "Model > Trust code of this model…"'
_SNAPSHOT = re.compile(r"/snapshots/([0-9a-f]{40})(?:/|$)")


class RemoteCodeNotTrusted(RuntimeError):
    """A model needs its folder's own Python code and the user has not trusted that code (or it changed since)."""


@dataclass(frozen=True)
class CodeRevision:
    """What running a model folder's code means: the files that would run and the revision consent is bound to."""

    model_id: str
    folder: Path
    revision: str  # "sha256:…" over the folder's *.py files and its config files' auto_map
    files: tuple[str, ...]  # the Python files, relative to the folder
    commit: str = ""  # the Hugging Face commit when the folder is a snapshot in the HF cache

    def describe(self) -> str:
        files = ", ".join(self.files[:5]) + (f" and {len(self.files) - 5} more" if len(self.files) > 5 else "")
        return f"{count(len(self.files), 'Python file')} in {self.folder}" + (f" ({files})" if files else "")


def code_revision(model_id: str, folder: str | Path) -> CodeRevision:
    """The revision of ``folder``'s code: a hash of every Python file (name and bytes) and of the ``auto_map`` of
    every config file (which names the classes to load), so a changed or planted module changes it while a
    checkpoint of the same model, which copies the same code, keeps it."""
    folder = Path(folder)
    digest = hashlib.sha256()
    code = sorted(p for p in folder.rglob("*.py") if p.is_file())
    for path in code:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(p for p in folder.rglob("*config*.json") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + _auto_map(path) + b"\0")
    match = _SNAPSHOT.search(folder.as_posix())
    return CodeRevision(model_id, folder, "sha256:" + digest.hexdigest(),
                        tuple(p.relative_to(folder).as_posix() for p in code), match.group(1) if match else "")


def _auto_map(path: Path) -> bytes:
    """The ``auto_map`` of a config file, canonically; the whole file when it is not a JSON object."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(data, dict):
        return raw
    return json.dumps(data.get("auto_map"), sort_keys=True).encode()


def config_dir() -> Path:
    """The user's VLM Studio config folder (``$VLM_STUDIO_CONFIG_DIR`` when set)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("vlm-studio", appauthor=False))


def _consent_path() -> Path:
    return config_dir() / CONSENT_FILE


def trusted_revisions() -> dict[str, dict[str, Any]]:
    """Every consent given: ``{model_id: {revision: {"folder", "files", "commit", "trusted_at"}}}``."""
    path = _consent_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise RemoteCodeNotTrusted(f"{path}: cannot read the trusted-code list ({exc}); delete the file and "
                                   "trust the models again") from None
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, dict[str, Any]]) -> None:
    with replaced_atomically(_consent_path(), durable=True) as staging:
        staging.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def is_trusted(code: CodeRevision) -> bool:
    return code.revision in trusted_revisions().get(code.model_id, {})


def trust(code: CodeRevision) -> None:
    """Record the user's consent to run ``code`` (this model id and revision only)."""
    data = trusted_revisions()
    data.setdefault(code.model_id, {})[code.revision] = {
        "folder": str(code.folder), "files": list(code.files), "commit": code.commit,
        "trusted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write(data)


def revoke(model_id: str) -> int:
    """Withdraw every consent given for ``model_id``; returns how many revisions were trusted."""
    data = trusted_revisions()
    removed = data.pop(model_id, {})
    if removed:
        _write(data)
    return len(removed)


def require_trust(code: CodeRevision, name: str = "") -> None:
    """Raise `RemoteCodeNotTrusted` naming the model, its folder and how to consent, unless ``code`` is trusted."""
    if is_trusted(code):
        return
    name = name or code.model_id
    known = code.model_id in trusted_revisions()
    why = ("its code changed since you trusted it" if known else "you have not trusted this model's code")
    raise RemoteCodeNotTrusted(
        f"{name} ({code.model_id}) runs Python code shipped with its checkpoint ({code.describe()}) and {why}. "
        f"VLM Studio runs it only with your consent: {HOW_TO_CONSENT}"
    )


def from_pretrained(loader: Any, entry: CatalogEntry, folder: str | Path, **kwargs: Any) -> Any:
    """``loader.from_pretrained(folder)`` offline: with the folder's own code only for an entry that needs it and
    after the user trusted this revision of it (else `RemoteCodeNotTrusted`), never for any other entry."""
    if entry.remote_code:
        require_trust(code_revision(entry.id, folder), entry.name)
    return loader.from_pretrained(folder, local_files_only=True, trust_remote_code=entry.remote_code, **kwargs)
