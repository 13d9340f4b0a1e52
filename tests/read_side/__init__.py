"""Read side tests: query models given/when/then."""
