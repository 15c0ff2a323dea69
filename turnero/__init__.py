"""The entry points: the `turnero` command line, the demo clinic, the terminal chat and the
fake Twilio server (`turnero fake-twilio`, also the tests' and benchmarks' Twilio)."""
