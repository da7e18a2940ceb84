import { useStdout } from "ink";
import { useEffect, useState } from "react";

const FALLBACK_COLUMNS = 80;

function columnsOf(stdout: NodeJS.WritableStream): number {
  const c = (stdout as { columns?: number }).columns;
  return typeof c === "number" && c > 0 ? c : FALLBACK_COLUMNS;
}

/** Terminal width in cells, from Ink's stdout, updated on resize. */
export function useColumns(): number {
  const { stdout } = useStdout();
  const [columns, setColumns] = useState(() => columnsOf(stdout));
  useEffect(() => {
    const onResize = () => setColumns(columnsOf(stdout));
    onResize();
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return columns;
}
