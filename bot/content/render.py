"""A step as the Telegram HTML message people read: bold title, body, the notice on endings."""

from __future__ import annotations

from bot.content.model import Node
from bot.content.telegram_html import MAX_BUTTON_CHARS, visible_text
from bot.words.i18n import N_

# Put above a step served in English to a user of another language (not translated yet).
NOT_TRANSLATED = N_("This part is not translated into your language yet, so it is shown in "
                    "English.")
DISCLAIMER = N_("This is general information, not legal advice. Laws and policies change fast: "
                "talk to an immigration lawyer or accredited representative about your case.")


def render_node(node: Node, footer: str = "", html: str | None = None) -> str:
    """Telegram HTML for a node: bold title, body (``html``: a variant), and the notice on endings."""
    parts = [f"<b>{node.title}</b>"]
    body = node.html if html is None else html
    if body:
        parts.append(body)
    if footer:
        parts.append(f"<i>{footer}</i>")
    return "\n\n".join(parts)


def title_label(node: Node) -> str:
    """A node's title as a button label, cut to what Telegram shows."""
    label = visible_text(node.title)
    return label if len(label) <= MAX_BUTTON_CHARS else label[:MAX_BUTTON_CHARS - 1] + "…"
