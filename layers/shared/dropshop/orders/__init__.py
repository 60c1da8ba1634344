"""Orders: placing them against the catalog's stock, their life cycle, and what follows each step."""
