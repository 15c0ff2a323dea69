"""The use cases: what happens when a message arrives, a time frees up, a request is
answered, a clinic edits its texts. Each takes plain values and an engine or a session,
and runs the rule in the store's transactions. Imports only `bot`, `store` and `channel`;
the edges (`webhook`, `web`, `scheduler`, the command line) call it, never the reverse."""
