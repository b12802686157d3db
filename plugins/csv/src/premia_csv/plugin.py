"""CSV source plugin (being written)."""
