"""colo-lxd-exporter: not built yet (see the tracker)."""

import sys


def main() -> None:
    print("colo-lxd-exporter is not built yet", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
