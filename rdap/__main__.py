"""`python -m rdap` runs the rdapd command line."""

from rdap.cli import main

if __name__ == "__main__":
    main()
