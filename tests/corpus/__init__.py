"""Bad-input corpus, one module per entry point (see ``tests/corpus/corpus.py``)."""
