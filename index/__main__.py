"""``python -m index``: see ``index.cli`` (also the ``pomocnik-index`` console script)."""

import sys

from index.cli import main

if __name__ == "__main__":
    sys.exit(main())
