/**
 * The layering of src/, checked by `bun run check` (docs/architecture.md
 * draws it). Lower layers never import higher ones; the sans-IO core
 * (wire, tcp, stack) imports no Node or Bun module; no two folders import
 * each other, directly or round a cycle.
 */
/**
 * What each folder of src/ may import, besides itself: the drawing in
 * docs/architecture.md, written down. stack and link sit side by side and
 * know nothing of each other; a folder not listed here may not exist.
 */
const MAY_IMPORT = {
  util: [],
  clock: ["util"],
  wire: ["util", "clock"],
  tcp: ["util", "clock", "wire"],
  stack: ["util", "clock", "wire", "tcp"],
  link: ["util", "clock", "wire"],
  runtime: ["util", "clock", "wire", "tcp", "stack", "link"],
  api: ["util", "clock", "wire", "tcp", "stack", "link", "runtime"],
  services: ["util", "clock", "wire", "tcp", "stack", "link", "runtime", "api"],
  packetdrill: ["util", "clock", "wire", "tcp", "stack", "link", "runtime", "api"],
  lab: [
    "util",
    "clock",
    "wire",
    "tcp",
    "stack",
    "link",
    "runtime",
    "api",
    "services",
    "packetdrill",
  ],
};
const FOLDERS = Object.keys(MAY_IMPORT).join("|");
/** Below the edge: no Node or Bun module, directly or through a helper they import. */
const SANS_IO = "util|clock|wire|tcp|stack";

module.exports = {
  forbidden: [
    {
      name: "no-cycle-between-folders",
      comment: "A cycle that leaves its folder couples two layers both ways.",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, via: { pathNot: "^src/$1/" } },
    },
    ...Object.entries(MAY_IMPORT).map(([layer, below]) => ({
      name: `${layer}-imports-only-what-is-below-it`,
      comment: `src/${layer} may import ${below.length > 0 ? below.join(", ") : "no other folder"}.`,
      severity: "error",
      from: { path: `^src/${layer}/` },
      to: { path: "^(src|cli)/", pathNot: `^src/(${[layer, ...below].join("|")})/` },
    })),
    {
      name: "no-unknown-folder",
      comment: `src/ holds only the folders drawn in docs/architecture.md (${FOLDERS.replaceAll("|", ", ")}); a new one is placed in MAY_IMPORT first.`,
      severity: "error",
      from: {},
      to: { path: "^src/", pathNot: `^src/(${FOLDERS})/` },
    },
    {
      name: "no-unknown-folder-importing",
      comment: "A module in a folder the drawing does not have imports nothing until it is placed.",
      severity: "error",
      from: { path: "^src/", pathNot: `^src/(${FOLDERS})/` },
      to: {},
    },
    {
      name: "core-reads-no-clock",
      comment:
        "The core takes `now` as an argument: it may use the time types, never a running clock.",
      severity: "error",
      from: { path: "^src/(wire|tcp|stack)/" },
      to: { path: "^src/clock/", pathNot: "^src/clock/(time|clock)\\.ts$" },
    },
    {
      name: "sans-io-core",
      comment:
        "wire, tcp and stack, and the util and clock modules beneath them, read no file, entropy or process: those come in from the edge.",
      severity: "error",
      from: { path: `^src/(${SANS_IO})/` },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "personalities-are-tcp-presets",
      comment: "The presets are TCP settings under a name: they import nothing outside src/tcp.",
      severity: "error",
      from: { path: "^src/tcp/personality\\.ts$" },
      to: { pathNot: "^src/tcp/" },
    },
    {
      name: "src-does-not-import-tests-or-cli",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|cli|scripts)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // swc marks type-only imports itself; asking for tsc too only prints a warning
    // (TypeScript 7.0's API lacks what dependency-cruiser needs).
    tsPreCompilationDeps: false,
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "node_modules" },
  },
};
