"""The projection engine: runners, batching, checkpoints, dead letters, rebuilds, lag."""
