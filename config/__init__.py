"""Configuration: settings read from the environment, reply texts and data tables.

May import nothing of ours; every other package may import it.
"""
