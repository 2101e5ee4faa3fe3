"""Turning what a user hands to `apply`/`delete` into a list of object dicts.

A source is a file path, YAML/JSON text (possibly multi-document) or a list of dicts. A YAML
error anywhere means nothing is applied — kubectl parses the whole input before it sends
anything — so parsing is all-or-nothing and happens before any write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InvalidObject


@dataclass
class Document:
    obj: dict
    origin: str  # file path or "STDIN"-like label, for messages
    index: int  # position of the document in its source (0-based)


def load(src: str | os.PathLike | list | dict) -> list[Document]:
    if isinstance(src, dict):
        src = [src]
    if isinstance(src, list):
        return _check([Document(obj, "<objects>", i) for i, obj in enumerate(src)])
    text, origin = _read(src)
    try:
        raw_docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise InvalidObject(f'error parsing {origin}: {_yaml_message(exc)}', reason="BadRequest", code=400) from None
    docs: list[Document] = []
    for i, raw in enumerate(raw_docs):
        if raw is None:
            continue
        if isinstance(raw, dict) and raw.get("kind", "").endswith("List") and isinstance(raw.get("items"), list):
            docs.extend(Document(item, origin, i) for item in raw["items"])
        else:
            docs.append(Document(raw, origin, i))
    return _check(docs)


def _read(src: str | os.PathLike) -> tuple[str, str]:
    if isinstance(src, os.PathLike):
        path = Path(src)
        return _read_path(path), str(path)
    text = str(src)
    if "\n" not in text and not text.lstrip().startswith(("{", "[")) and ":" not in text.split("/")[0]:
        return _read_path(Path(text)), text
    if "\n" not in text and (text.endswith((".yaml", ".yml", ".json")) or os.path.exists(text)):
        return _read_path(Path(text)), text
    return text, "STDIN"


def _read_path(path: Path) -> str:
    if path.is_dir():
        parts = [p.read_text() for p in sorted(path.iterdir()) if p.suffix in (".yaml", ".yml", ".json")]
        return "\n---\n".join(parts)
    try:
        return path.read_text()
    except FileNotFoundError:
        raise InvalidObject(f'the path "{path}" does not exist', reason="NotFound", code=404) from None
    except OSError as exc:
        raise InvalidObject(f'error reading "{path}": {exc.strerror}', reason="BadRequest", code=400) from None


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"error converting YAML to JSON: yaml: line {mark.line + 1}: {problem}"
    return f"error converting YAML to JSON: yaml: {problem}"


def _check(docs: list[Document]) -> list[Document]:
    """kubectl refuses input whose documents lack apiVersion/kind before sending anything."""
    for doc in docs:
        obj = doc.obj
        if not isinstance(obj, dict):
            raise InvalidObject(f"error validating {doc.origin}: document {doc.index} is not an object", code=400,
                                reason="BadRequest")
        missing = [f for f in ("apiVersion", "kind") if not obj.get(f)]
        if missing:
            which = " and ".join(missing) if len(missing) == 2 else missing[0]
            raise InvalidObject(
                f'error validating "{doc.origin}": error validating data: {which} not set', code=400, reason="BadRequest")
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
            raise InvalidObject(
                f'error when creating "{doc.origin}": {obj["kind"]} in version "{obj["apiVersion"].split("/")[-1]}" '
                "cannot be handled: resource name may not be empty", code=400, reason="BadRequest")
    return docs
