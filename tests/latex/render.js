// Renders the LaTeX read from stdin with KaTeX, as a display formula, strictly: any parse error,
// unknown command or non-standard input exits 1 with KaTeX's message. Used by tests/test_explain_latex.py.
const katex = require("katex");

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", () => {
  try {
    katex.renderToString(text, { displayMode: true, throwOnError: true, strict: "error" });
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
});
