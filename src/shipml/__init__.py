"""shipml."""
