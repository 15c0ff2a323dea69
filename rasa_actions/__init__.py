"""A Rasa action server over Turnero's agenda: rasa-sdk's own app and executor, serving
actions that book into the same store, under the same rules and texts, as the WhatsApp bot."""
