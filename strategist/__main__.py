import sys

from strategist.cli.main import main

sys.exit(main())
