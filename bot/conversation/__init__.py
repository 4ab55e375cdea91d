"""The pure conversation: engine, actions, search. No Telegram, no database."""
