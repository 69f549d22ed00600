// Bundles src/ into dist/itb-chat.js, the one file a web page loads.
// build/content.json (the notice and numbers, from content/) must exist first:
// `make widget` writes it with scripts/export_widget_content.py.

import { build } from "esbuild";

await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2019"],
  loader: { ".css": "text" },
  outfile: "dist/itb-chat.js",
  logLevel: "warning",
});
