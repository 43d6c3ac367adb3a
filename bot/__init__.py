"""The Telegram door: delivers notifications and collects photo evidence (the bot issue)."""
