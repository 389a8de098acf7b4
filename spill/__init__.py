"""Spilling ReadRecords results to S3 (or a local directory) exactly as Athena reads them back."""
