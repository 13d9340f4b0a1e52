"""The traffic simulator: a seeded, realistic bookstore driven through the real command handlers."""
