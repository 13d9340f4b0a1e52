"""Catalog and rating query models: given these commands, the queries answer this."""
