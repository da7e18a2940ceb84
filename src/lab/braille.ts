/**
 * A canvas of Unicode braille cells (U+2800–U+28FF): each character cell holds
 * 2 × 4 dots, so a 64 × 16 cell chart has 128 × 64 points to draw on — lines
 * and staircases look like lines, not like rows of asterisks.
 *
 *     dot numbering in one cell      bit of each dot
 *        (0,0) (1,0)                   0x01  0x08
 *        (0,1) (1,1)                   0x02  0x10
 *        (0,2) (1,2)                   0x04  0x20
 *        (0,3) (1,3)                   0x40  0x80
 *
 * Dots carry no colour of their own: each cell remembers which layer set a
 * dot in it last (its tone comes from that layer), and a cell may instead
 * hold a mark — a letter or symbol drawn over the dots (a retransmission, a
 * drop) — so that what braille cannot say without colour is said in
 * characters.
 */

const BIT: readonly (readonly number[])[] = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

export const BRAILLE_BLANK = 0x2800;

export interface CanvasCell {
  readonly char: string;
  /** The layer that drew the cell last (its dots or its mark); -1 when empty. */
  readonly layer: number;
}

export class BrailleCanvas {
  /** Dots across and down. */
  readonly dotsX: number;
  readonly dotsY: number;
  private readonly bits: Uint8Array;
  private readonly owner: Int16Array;
  private readonly marks = new Map<number, { char: string; layer: number }>();

  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    this.dotsX = cols * 2;
    this.dotsY = rows * 4;
    this.bits = new Uint8Array(cols * rows);
    this.owner = new Int16Array(cols * rows).fill(-1);
  }

  /** Sets the dot at (x, y), y counted from the top; dots outside the canvas are ignored. */
  set(x: number, y: number, layer: number): void {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    if (xi < 0 || yi < 0 || xi >= this.dotsX || yi >= this.dotsY) return;
    const cell = (yi >> 2) * this.cols + (xi >> 1);
    this.bits[cell] = (this.bits[cell] as number) | (BIT[yi & 3]?.[xi & 1] as number);
    this.owner[cell] = layer;
  }

  /** A straight line of dots from (x0, y0) to (x1, y1), both ends included (Bresenham). */
  line(x0: number, y0: number, x1: number, y1: number, layer: number, dashed = false): void {
    let x = Math.round(x0);
    let y = Math.round(y0);
    const xe = Math.round(x1);
    const ye = Math.round(y1);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let e = dx + dy;
    let n = 0;
    for (;;) {
      // Dashed: two dots on, two off, along the line.
      if (!dashed || n % 4 < 2) this.set(x, y, layer);
      n++;
      if (x === xe && y === ye) break;
      const e2 = 2 * e;
      if (e2 >= dy) {
        e += dy;
        x += sx;
      }
      if (e2 <= dx) {
        e += dx;
        y += sy;
      }
    }
  }

  /** Draws `char` over the cell at (col, row), hiding its dots. */
  mark(col: number, row: number, char: string, layer: number): void {
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return;
    this.marks.set(row * this.cols + col, { char, layer });
  }

  /** The mark at a cell, if any (tests and captions). */
  markAt(col: number, row: number): string | undefined {
    return this.marks.get(row * this.cols + col)?.char;
  }

  cell(col: number, row: number): CanvasCell {
    const i = row * this.cols + col;
    const m = this.marks.get(i);
    if (m !== undefined) return m;
    const b = this.bits[i] as number;
    return b === 0
      ? { char: " ", layer: -1 }
      : { char: String.fromCharCode(BRAILLE_BLANK + b), layer: this.owner[i] as number };
  }
}
