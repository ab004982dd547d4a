import sys

from xlalens.cli import main

sys.exit(main())
