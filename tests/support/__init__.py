"""What tests and benches share: fakes of the vendors' APIs, the web chat client, the serve
launcher, polling, a Redis Cluster and a Rasa action server."""
