import sys

from lipnet_training.cli import main

sys.exit(main())
