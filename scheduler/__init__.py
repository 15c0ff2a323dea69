"""Background work: the jobs that find due work in the store (the store, not a job store,
holds what is due) and the outbox dispatcher that sends queued messages."""
