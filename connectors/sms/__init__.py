"""SMS through Twilio: webhooks, sending, and SMS text rules."""
