import sys

from lipnet_core.cli import main

sys.exit(main())
