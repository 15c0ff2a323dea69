"""The conversation: a pure dialogue engine over the flows in `flows/`, the reading of what a
patient writes, and the rendering of replies from `templates/` and `locales/`.

No I/O happens here: no Flask, no Twilio, no database session. Everything the engine needs
arrives as plain data (or through the small `Availability` protocol), and everything it
decides leaves as a `Turn`."""
