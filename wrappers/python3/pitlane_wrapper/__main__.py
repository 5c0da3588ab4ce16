"""``python -m pitlane_wrapper ENTRYPOINT_PATH [ENTRYPOINT_CLASS]``."""
import sys

from pitlane_wrapper.server import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
