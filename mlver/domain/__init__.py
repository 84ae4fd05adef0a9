"""Pure logic: no I/O, no adapters, no printing."""
