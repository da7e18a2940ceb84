import { useStdout } from "ink";
import { useEffect, useState } from "react";

const FALLBACK_COLUMNS = 80;

/** Terminal width in cells, from Ink's stdout, updated on resize. */
export function useColumns(): number {
  const { stdout } = useStdout();
  const read = () => {
    const c = (stdout as { columns?: number }).columns;
    return typeof c === "number" && c > 0 ? c : FALLBACK_COLUMNS;
  };
  const [columns, setColumns] = useState(read);
  useEffect(() => {
    const onResize = () => setColumns(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
    // biome-ignore lint/correctness/useExhaustiveDependencies: read only closes over stdout
  }, [stdout]);
  return columns;
}
