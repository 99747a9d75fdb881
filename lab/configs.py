"""Example configs as a test can check them: copied into a directory with the files they refer to.

The examples name files an operator creates (`/etc/colo-exporters/bmc-ca.pem`), and `--config.check`
refuses a config whose referenced files are missing, so a test gives it placeholders of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def _placed(node: Any, d: Path) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if isinstance(k, str) and k.endswith("_file") and isinstance(v, str):
                f = d / Path(v).name
                f.write_text("placeholder\n")
                f.chmod(0o600)
                out[k] = str(f)
            else:
                out[k] = _placed(v, d)
        return out
    if isinstance(node, list):
        return [_placed(v, d) for v in node]
    return node


def example_with_files(example: Path, d: Path) -> Path:
    """A copy of `example` in `d`, every `*_file` key pointing at a placeholder file there."""
    data = yaml.safe_load(example.read_text())
    out = d / example.name
    out.write_text(yaml.safe_dump(_placed(data, d), sort_keys=False))
    return out
