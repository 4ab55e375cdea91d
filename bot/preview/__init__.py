"""The preview site: every step as Telegram shows it, in every language, with a map and QR codes."""
