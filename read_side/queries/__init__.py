"""Query functions the API calls: plain functions over the stable views, returning typed results."""
