"""Houqin's composition root: settings, the command line, and wiring the processes."""
