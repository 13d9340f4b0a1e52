"""The FastAPI edge: `create_app(settings)` and what its routes share."""
