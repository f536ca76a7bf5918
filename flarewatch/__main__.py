"""Run the Flarewatch CLI with `python -m flarewatch`."""

from flarewatch.cli import main

main()
