"""Changes: the comparison of a version with its parent — sections, clauses, significance, topics."""
