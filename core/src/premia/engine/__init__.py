"""The sync engine: reading sources, computing metrics, evaluating rules, paying rewards."""
