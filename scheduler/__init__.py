"""The clock's door: sweeps that make duties fall due (coming with the scheduling issue)."""
