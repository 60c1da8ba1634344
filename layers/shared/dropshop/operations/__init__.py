"""Operating the stack: what runs during deployments rather than for customers."""
