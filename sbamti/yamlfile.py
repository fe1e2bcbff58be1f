"""Reading the project's YAML configuration files with errors that name the file (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sbamti.errors import ConfigurationError


def read_yaml(path: str | Path, what: str) -> Any:
    """The parsed document of ``path``; ``ConfigurationError`` naming the file and ``what`` it should
    hold (e.g. "scenario file") when it cannot be read or is not valid YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML ({exc})") from None
