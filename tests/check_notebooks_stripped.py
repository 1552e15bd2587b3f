"""Fail if any notebook is committed with outputs or execution counts (CI check)."""

import json
import sys
from pathlib import Path

bad = []
for path in sorted(Path(sys.argv[1] if len(sys.argv) > 1 else "notebooks").glob("*.ipynb")):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            bad.append(str(path))
            break
if bad:
    sys.exit("notebooks with outputs (run `nbstripout` on them): " + ", ".join(bad))
print("notebooks are stripped")
