"""Drop Shop's domain and platform code, shipped to every function as the shared Lambda layer."""
