"""Constraints applied to data: compiled to SQL for a source, or evaluated on Arrow batches."""
