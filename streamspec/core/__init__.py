"""Core: the data (spectrum, grid, chapters), the rules (options, limits, time formats) and
the small helpers every layer may use. Imports nothing above it."""
