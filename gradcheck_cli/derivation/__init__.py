"""A student's derivation: the formula language, its links, checking them one by one, the diagnoses, user code."""
