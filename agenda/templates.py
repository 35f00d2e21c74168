"""The catalogue of templates: export templates and starter agendas, built-in or the user's.

Export and import both stand on it, so it sits below both (DESIGN.md, "Layers and folders").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from markdown_it import MarkdownIt

import agenda
from agenda.model import AgendaError
from agenda.paths import user_templates_dir

TEMPLATE_SUFFIX = ".md.j2"
STARTER_SUFFIX = ".md"
# A template is named, never addressed by path: no separators, no dots, nothing to climb with.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

View = Literal["joint", "delegation"]
Origin = Literal["--template-dir", "user", "built-in"]


def templates_root() -> Path:
    """Built-in templates: inside the package when installed from a wheel, else the checkout's."""
    package = Path(agenda.__file__).parent
    shipped = package / "templates"
    return shipped if shipped.is_dir() else package.parent / "templates"


def check_name(name: str, what: str = "template") -> str:
    if not _NAME.match(name):
        raise AgendaError(f"{name!r} is not a {what} name: use letters, digits, '-' and '_' "
                          "(a name such as agenda or brief, not a path)")
    return name


def search_dirs(template_dir: Path | None, kind: str) -> list[tuple[Origin, Path]]:
    """Folders to look in, first match wins: --template-dir, the user's folder, built-ins."""
    dirs: list[tuple[Origin, Path]] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise AgendaError(f"--template-dir {template_dir} is not a folder")
        dirs.append(("--template-dir", template_dir))
    user = user_templates_dir()
    if user.is_dir():
        dirs.append(("user", user))
    dirs.append(("built-in", templates_root() / kind))
    return dirs


# Template listing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateInfo:
    name: str
    kind: Literal["export", "starter"]
    origin: Origin
    path: Path
    description: str
    view: View  # starters are always "joint"


_HEADER = re.compile(r"\A\{#-?(.*?)-?#\}", re.DOTALL)


def _export_info(name: str, origin: Origin, path: Path) -> TemplateInfo:
    """Read the template's opening comment: a description, and `view: joint|delegation`."""
    try:
        head = path.read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError) as exc:
        raise AgendaError(f"Cannot read template {path}: {exc}") from None
    description, view = "", "joint"
    match = _HEADER.match(head)
    for line in (match.group(1) if match else "").splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key.strip() == "view":
            view = value.strip()
        elif line.strip() and not description:
            description = line.strip()
    if view not in ("joint", "delegation"):
        raise AgendaError(f"Template {path} says `view: {view}`; use joint or delegation")
    return TemplateInfo(name, "export", origin, path, description, view)  # type: ignore[arg-type]


def _starter_info(name: str, origin: Origin, path: Path) -> TemplateInfo:
    try:
        title = starter_title(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AgendaError(f"Cannot read starter agenda {path}: {exc}") from None
    return TemplateInfo(name, "starter", origin, path, title, "joint")


def starter_title(text: str) -> str:
    """A starter agenda's title, as the catalogue lists it: its one top-level heading."""
    tokens = MarkdownIt("commonmark").parse(text)
    titles = [tokens[i + 1].content.strip() for i, token in enumerate(tokens)
              if token.type == "heading_open" and token.tag == "h1"]
    return titles[0] if len(titles) == 1 else ""


def list_templates(template_dir: Path | None = None) -> list[TemplateInfo]:
    """Every export template and starter agenda, the one in use first under each name."""
    found: list[TemplateInfo] = []
    for kind, suffix in (("export", TEMPLATE_SUFFIX), ("starter", STARTER_SUFFIX)):
        seen: set[str] = set()
        for origin, folder in search_dirs(template_dir, "export" if kind == "export"
                                          else "starters"):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                name = path.name[: -len(suffix)]
                if not path.name.endswith(suffix) or not _NAME.match(name) or name in seen:
                    continue
                if kind == "starter" and path.name.endswith(TEMPLATE_SUFFIX):
                    continue
                seen.add(name)
                info = _export_info if kind == "export" else _starter_info
                found.append(info(name, origin, path))
    return found


def find_template(name: str, template_dir: Path | None = None) -> TemplateInfo:
    check_name(name)
    for origin, folder in search_dirs(template_dir, "export"):
        path = folder / f"{name}{TEMPLATE_SUFFIX}"
        if path.is_file():
            return _export_info(name, origin, path)
    known = ", ".join(t.name for t in list_templates(template_dir) if t.kind == "export")
    raise AgendaError(f"No export template {name!r} (templates: {known})")


def find_starter(name: str, template_dir: Path | None = None) -> TemplateInfo:
    check_name(name, "starter agenda")
    for origin, folder in search_dirs(template_dir, "starters"):
        path = folder / f"{name}{STARTER_SUFFIX}"
        if path.is_file():
            return _starter_info(name, origin, path)
    known = ", ".join(t.name for t in list_templates(template_dir) if t.kind == "starter")
    raise AgendaError(f"No starter agenda {name!r} (starters: {known})")


# Escaping user text for its Markdown context -----------------------------------------------
