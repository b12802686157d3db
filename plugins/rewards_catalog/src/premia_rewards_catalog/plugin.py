"""Rewards catalog plugin (being written)."""
