"""`make bench-load`: the service under a realistic campaign-night mix, against a baseline.

See bench/load/run.py (the orchestrator), client.py (the load generator, its own process),
baseline.py (the wechatpy + Flask echo app) and seed.py (the campaign world).
"""
