"""Tables and result files: markdown for the reports, JSON (with the machine) for the record."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch


def fmt(value: Any, spec: str = ".3g") -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "not reached"
        if math.isnan(value):
            return "diverged"
        return format(value, spec)
    return str(value)


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return dict(torch=torch.__version__, platform=platform.platform(), cpus=os.cpu_count(),
                threads=torch.get_num_threads(), cuda=torch.cuda.is_available(),
                time=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(dict(payload, machine=machine())), indent=1))
    return path
