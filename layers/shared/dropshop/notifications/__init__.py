"""Notifications: the e-mails customers get about their orders (SES, from templates in this package)."""
