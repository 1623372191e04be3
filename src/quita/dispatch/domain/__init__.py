"""Pure dispatch rules: retry backoff, error handling decisions."""
