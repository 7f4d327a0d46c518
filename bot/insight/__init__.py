"""What happened and whether it helped: the journal of events, the report, customer
satisfaction surveys."""
