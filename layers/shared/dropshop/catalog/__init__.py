"""The catalog: products, their prices and their stock."""
