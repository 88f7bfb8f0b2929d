"""Features around the pipeline: surveys, unsubscribe, usage, import, erasure, dry run, insights."""
