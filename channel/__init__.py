"""Sending WhatsApp messages: through the real Twilio API, or through a sandbox that sends
nothing (for local runs without credentials). The fake Twilio server of tests and
benchmarks lives with the entry points (`turnero.fake_twilio`). Import the submodules
directly; this package re-exports nothing."""
