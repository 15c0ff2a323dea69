"""The entry points: the `turnero` command line, the demo clinic and the terminal chat."""
