// Typeset the formulas that pymdownx.arithmatex (generic mode) wraps in .arithmatex elements.
// KaTeX is served from docs/assets/katex, so the site needs no network to show maths.
// document$ is Material's page-load observable: it fires again after instant navigation.
document$.subscribe(({ body }) => {
  body.querySelectorAll(".arithmatex").forEach((element) => {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  });
});
