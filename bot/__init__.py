"""kyr-bot: a multilingual know-your-rights chatbot for people facing third-country removal."""

__version__ = "0.1.0"
