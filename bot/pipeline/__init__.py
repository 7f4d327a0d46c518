"""A customer message from accept to answer: the dispatcher, the work stream, back-pressure and
the cheap language checks before classifying."""
