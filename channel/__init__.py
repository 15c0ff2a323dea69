"""Sending WhatsApp messages: through the real Twilio API, through a sandbox that sends
nothing (for local runs without credentials), and a fake Twilio server for tests and the
demo. Import the submodules directly; this package re-exports nothing."""
