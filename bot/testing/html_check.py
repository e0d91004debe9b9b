"""Check that a message is HTML Telegram accepts: known tags only, balanced, within 4096."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"})
MAX_LENGTH = 4096


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> not allowed")
        if tag == "a" and not (dict(attrs).get("href") or "").startswith(("http://", "https://")):
            self.problems.append(f"link without http(s) href: {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_problems(message: str) -> list[str]:
    """What is wrong with ``message`` as Telegram HTML (empty list when it is fine)."""
    checker = _Checker()
    checker.feed(message)
    checker.close()
    problems = list(checker.problems)
    if checker.stack:
        problems.append(f"unclosed tags {checker.stack}")
    length = len(message.encode("utf-16-le")) // 2
    if length > MAX_LENGTH:
        problems.append(f"{length} UTF-16 units > {MAX_LENGTH}")
    # A bare "<" or "&" that is not an entity means something was not escaped.
    for stray in ("<<", "< ", "&&"):
        if stray in message:
            problems.append(f"unescaped {stray!r}")
    return problems


def visible_text(message: str) -> str:
    """The text a user sees (tags removed, entities decoded)."""
    checker = _Checker()
    checker.feed(message)
    checker.close()
    return "".join(checker.text)
