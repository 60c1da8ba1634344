"""What every bounded context shares: settings, AWS clients, observability, HTTP error mapping."""
