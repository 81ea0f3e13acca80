"""Layer cases for the generic suite: each module here defines ``CASES``."""
