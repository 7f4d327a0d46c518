"""Getting messages out: the durable outbox, one try of an entry, delivery records and their log."""
