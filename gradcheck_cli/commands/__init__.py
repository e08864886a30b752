"""The commands beside check: explain, sweep and step."""
