"""Statement templates: `<status>.<lang>.j2` files rendered in a sandbox, undefined names fatal."""

from __future__ import annotations

from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from bot.statements.context import StatementContext


def shipped_templates() -> Path:
    """The templates this project ships (English and Italian), inside the installed package."""
    return Path(__file__).resolve().parent / "shipped"


STATUSES = ("investigating", "identified", "monitoring", "resolved", "maintenance")
NAME = "name"  # the public incident name, e.g. "Disruption to online account services"


class TemplateProblem(Exception):
    """A template is missing or does not render; the message names the file."""


class StatementTemplates:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=False,  # plain text; every output escapes it for its own markup
            # Whitespace is tidied after rendering; trim_blocks would glue sentences together.
            lstrip_blocks=True,
        )

    def render(self, kind: str, context: StatementContext) -> str:
        name = f"{kind}.{context.language}.j2"
        try:
            text = self._env.get_template(name).render(context.variables())
        except TemplateNotFound:
            raise TemplateProblem(f"{self.directory / name}: template not found") from None
        except TemplateError as exc:
            raise TemplateProblem(f"{self.directory / name}: {exc}") from None
        return " ".join(text.split()) if kind == NAME else _tidy(text)

    def problems(self, languages: list[str], samples: dict[str, StatementContext]) -> list[str]:
        """Render every status and the name in every language with sample data."""
        found = []
        for language in languages:
            sample = samples[language]
            for kind in (*STATUSES, NAME):
                try:
                    text = self.render(kind, sample)
                except TemplateProblem as exc:
                    found.append(str(exc))
                    continue
                if not text.strip():
                    found.append(f"{self.directory / f'{kind}.{language}.j2'}: renders empty")
        return found


def _tidy(text: str) -> str:
    """Paragraphs kept, stray whitespace from template logic removed."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)
