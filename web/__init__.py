"""The web side: the staff console, the patient's self-service page, the admin API and the
sandbox's feed, as Flask blueprints with their templates and static files. `webhook.py`
builds the app from them. Pages turn a request into a use-case or store call and its
result into HTML or JSON; no clinic rule lives here."""
