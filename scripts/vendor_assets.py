"""Copy the pinned npm assets (package-lock.json) into majorprojects/static/vendor.

Third-party files are never committed; `make setup` runs `npm ci` and then this script.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "majorprojects" / "static" / "vendor"

FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
}


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        path = NODE / source
        if not path.exists():
            print(f"missing {path}; run `npm ci` first", file=sys.stderr)
            return 1
        shutil.copyfile(path, VENDOR / target)
        source_map = path.with_name(path.name + ".map")
        if source_map.exists():  # referenced from the minified file; the manifest storage checks it
            shutil.copyfile(source_map, VENDOR / (target + ".map"))
    print(f"copied {len(FILES)} asset files to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
