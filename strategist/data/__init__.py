"""Rally data: one canonical stroke table for every sport, and the loaders that fill it."""
