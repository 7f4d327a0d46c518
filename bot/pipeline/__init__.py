"""A customer message from accept to answer: the dispatcher, the work stream and back-pressure."""
