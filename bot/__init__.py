"""kyr-bot: a multilingual know-your-rights chatbot for people facing third-country removal.

Entry points: ``kyr-bot`` (:func:`bot.cli.main`); the engine (:mod:`bot.conversation.engine`);
the Telegram service (:mod:`bot.telegram.runner`); the terminal chat (:mod:`bot.terminal`).
"""

__version__ = "0.1.0"
