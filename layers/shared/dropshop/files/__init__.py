"""The file registry: every object uploaded to the data bucket, its metadata and what became of it."""
