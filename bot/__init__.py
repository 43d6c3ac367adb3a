"""The Telegram door: answers people in their linked chats and hosts the Telegram sender."""
