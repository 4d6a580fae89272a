"""How a message reads in a terminal: one renderer for channel posts and command replies."""

from __future__ import annotations

from bot.chat.message import MENTION, Message


def render_plain(text: str) -> str:
    """Text for a terminal: mentions as `@user`."""
    return MENTION.sub(lambda m: f"@{m.group(1)}", text)


def render_text(message: Message, headline: str, indent: str) -> list[str]:
    """The headline, then the body indented: fields and lines, buttons, context, attachment."""
    body = [indent + render_plain(line) for line in message.lines]
    fields = [f"{indent}{label}: {render_plain(value)}" for label, value in message.fields]
    out = [render_plain(headline)]
    if message.follows:
        out.append(f"{indent}(follows: {render_plain(message.follows)})")
    out += [*fields, *body] if message.fields_first else [*body, *fields]
    if message.actions:
        out.append(indent + "  ".join(f"[{a.label}]" for a in message.actions))
    if message.context:
        out.append(indent + render_plain(message.context))
    if message.attachment:
        name, content = message.attachment
        out.append(f"{indent}--- {name} ---")
        out.extend(indent + line for line in content.splitlines())
    return out
