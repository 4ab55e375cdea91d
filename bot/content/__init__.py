"""Content as data: the tree model, the loader, the checks, Markdown and Telegram HTML rules."""
