"""`python -m exporters NAME [flags]`: exporter NAME, as its console script colo-NAME-exporter runs it."""

import sys

from . import launch

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in launch.EXTRA_MODULES:
        sys.exit(f"usage: python -m exporters {{{','.join(launch.EXTRA_MODULES)}}} [flags]")
    name = sys.argv.pop(1)
    launch.load(name)()
