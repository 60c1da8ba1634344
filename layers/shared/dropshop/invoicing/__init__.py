"""Invoicing: a gapless number per year for every confirmed order, its PDF, and a link to download it."""
