"""Telling people: subscribers and their tiers, signed links, same-day alerts through a
transactional outbox, the weekly digest, and the email backends (SendGrid, .eml files)."""
