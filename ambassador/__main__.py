import sys

from ambassador.cli import main

sys.exit(main())
