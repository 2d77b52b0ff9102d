"""The retrieval modes, in a module light enough for option parsers to import."""

MODES = ("dense", "bm25", "hybrid")
