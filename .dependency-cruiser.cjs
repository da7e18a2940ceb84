/**
 * The layering of src/, checked by `bun run check` (docs/architecture.md
 * draws it). Lower layers never import higher ones; the sans-IO core
 * (wire, tcp, stack) imports no Node or Bun module; no two folders import
 * each other, directly or round a cycle.
 */
const ORDER = [
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
  "lab",
];
const above = (layer) => ORDER.slice(ORDER.indexOf(layer) + 1);

module.exports = {
  forbidden: [
    {
      name: "no-cycle-between-folders",
      comment: "A cycle that leaves its folder couples two layers both ways.",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, via: { pathNot: "^src/$1/" }, dependencyTypesNot: ["type-only"] },
    },
    ...ORDER.filter((l) => above(l).length > 0).map((layer) => ({
      name: `${layer}-imports-nothing-above-it`,
      comment: `src/${layer} is below ${above(layer).join(", ")}.`,
      severity: "error",
      from: { path: `^src/${layer}/` },
      to: { path: `^(src/(${above(layer).join("|")})/|cli/)` },
    })),
    {
      name: "sans-io-core",
      comment:
        "wire, tcp and stack read no clock, file, entropy or process: those come in from the edge.",
      severity: "error",
      from: { path: "^src/(wire|tcp|stack)/" },
      to: { dependencyTypes: ["core"] },
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
