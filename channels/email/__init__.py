"""E-mail over SMTP (STARTTLS) for people without any chat: the digest and critical alerts."""

CHANNEL = "email"
