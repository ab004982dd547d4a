"""A frontend that fails on purpose, the way a real one can: raise, abort, or hang.

Run as a real subprocess by the capture tests (mode from XLALENS_TEST_BROKEN_MODE).
"""

import os
import sys
import time

from xlalens.frontends._protocol import main


def capture(workload, request, out, phases):
    """Fail according to the mode in the environment."""
    mode = os.environ.get("XLALENS_TEST_BROKEN_MODE", "raise")
    print("some framework log noise", file=sys.stderr)
    if mode == "abort":
        sys.stderr.flush()
        os.abort()
    if mode == "hang":
        time.sleep(3600)
    raise RuntimeError(f"deliberate {mode} in a broken frontend")


if __name__ == "__main__":
    main(capture)
