"""The bundle's entry point: the ``cci-uploader`` command line.

Started without arguments (a double-click on the .exe) it opens the window.
"""

import multiprocessing
import sys

from cci_uploader.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:] or ["gui"]))
