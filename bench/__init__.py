"""Benchmarks and the chaos suite, run from the repository root as modules:
``python -m bench.chaos``, ``python -m bench.e2e``, ``python -m bench.sms_ack``, ...

They share :mod:`bench.stats` (percentiles, rounding, number formatting),
:mod:`bench.questions` (the retail questions and how an answer is classed) and
:mod:`bench.service` (the benches' ``omnibot serve`` environment), and, with the tests,
``tests.support`` (the serve launcher, the web chat client and the fake Twilio).
"""
