// Typeset every formula on the page with the KaTeX copy in assets/katex (no CDN).
// Markdown pages give \( \) and \[ \] (pymdownx.arithmatex), notebook pages $ and $$.
document.addEventListener("DOMContentLoaded", function () {
  renderMathInElement(document.body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    ignoredClasses: ["clipboard-copy-txt"],     // the hidden copy of each code cell for the copy button
    throwOnError: false,
  });
});
