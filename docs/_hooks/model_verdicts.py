"""mkdocs hook: replace ``<!-- walker-verdicts -->`` with the walker's published verdicts, read from its records."""

MARKER = "<!-- walker-verdicts -->"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    from interp.results_page import model_verdicts

    return markdown.replace(MARKER, model_verdicts("walker"))
