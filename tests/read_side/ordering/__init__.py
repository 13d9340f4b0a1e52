"""Buyer, order and basket query models: given these commands, the query answers this."""
