"""Allow ``python -m sigilctl``."""

from sigilctl.cli import main

if __name__ == "__main__":
    main()
