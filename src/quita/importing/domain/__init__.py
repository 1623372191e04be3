"""Pure rules of portfolio import: which column is which, and what a valid row is."""
