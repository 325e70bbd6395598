"""mkdocs hook: replace ``<!-- cli-help -->`` with the live ``--help`` text of every command."""

MARKER = "<!-- cli-help -->"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    from interp.cli.main import help_texts

    sections = [f"## `{command}`\n\n```text\n{text.rstrip()}\n```\n" for command, text in help_texts()]
    return markdown.replace(MARKER, "\n".join(sections))
