/**
 * The pictures of the semantic check (semanticCheck.ts): coloured shapes on grey, solid colours and large printed
 * words, drawn in code at the model's input size.
 *
 * Drawn here rather than with OffscreenCanvas: canvas anti-aliasing and fonts differ between browsers and do not
 * exist in Node, and the check must give the same pixels — and so the same answers — in every browser and in the
 * Vitest suite. Each pixel is the share of a 4 × 4 grid of sample points that falls inside the figure, a box filter
 * like the supersampled drawing the demo model was trained on (models/eva_lens/synthetic.py), so edges are smooth at
 * 48 pixels and at 336. The word font is a 5 × 7 bitmap, scaled up.
 */
import type { RgbaImage } from '../image/rgbImage';

export type Rgb = readonly [number, number, number];

/** Sample points per pixel along each axis. */
const SUPERSAMPLE = 4;

/** Mid grey: the demo model was trained on grey-toned backgrounds, and a real CLIP reads a shape on grey as a shape. */
export const GREY: Rgb = [128, 128, 128];
export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

/** A `size × size` image: `fill` where `inside(x, y)` holds (x, y in [0, 1), y down), `background` elsewhere. */
export function drawFigure(
  size: number,
  background: Rgb,
  fill: Rgb,
  inside: (x: number, y: number) => boolean,
): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          if (inside((px + (sx + 0.5) / SUPERSAMPLE) / size, y)) hits++;
        }
      }
      const at = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) {
        data[at + c] = Math.round((fill[c]! * hits + background[c]! * (samples - hits)) / samples);
      }
      data[at + 3] = 255;
    }
  }
  return { data, width: size, height: size };
}

export type ShapeName = 'circle' | 'square' | 'triangle' | 'star' | 'heart';

/** Radius of a shape, as a share of the image side: large and centred, the easiest case for any model. */
const RADIUS = 0.36;

/** A point-in-shape test for a shape centred in the unit square, upright (the star and triangle point up). */
export function shapeTest(shape: ShapeName): (x: number, y: number) => boolean {
  if (shape === 'circle') return (x, y) => (x - 0.5) ** 2 + (y - 0.5) ** 2 <= RADIUS * RADIUS;
  if (shape === 'square') return (x, y) => Math.max(Math.abs(x - 0.5), Math.abs(y - 0.5)) <= 0.8 * RADIUS;
  const outline = shapeOutline(shape).map(([x, y]) => [0.5 + RADIUS * x, 0.5 + RADIUS * y] as const);
  return (x, y) => insidePolygon(outline, x, y);
}

/** Outlines of radius 1 around the origin, y down: the ones models/eva_lens/synthetic.py draws. */
function shapeOutline(shape: 'triangle' | 'star' | 'heart'): [number, number][] {
  const around = (count: number, radius: (k: number) => number, start: number) =>
    Array.from({ length: count }, (_, k): [number, number] => {
      const t = start + (2 * Math.PI * k) / count;
      return [radius(k) * Math.cos(t), radius(k) * Math.sin(t)];
    });
  if (shape === 'triangle') return around(3, () => 1, -Math.PI / 2);
  if (shape === 'star') return around(10, (k) => (k % 2 === 0 ? 1 : 0.42), -Math.PI / 2);
  return Array.from({ length: 60 }, (_, k): [number, number] => {
    const t = (2 * Math.PI * k) / 60;
    const x = (16 * Math.sin(t) ** 3) / 17;
    const y = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t)) / 17 - 0.1;
    return [x, y];
  });
}

/** Even-odd rule. */
function insidePolygon(points: readonly (readonly [number, number])[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * 5 × 7 capitals, one string per row ('#' = ink), for the letters the check's words use. A word with another letter
 * is a programming error, reported when the picture is drawn.
 */
const GLYPHS: Record<string, readonly string[]> = {
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.###.'],
  N: ['#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
};
const GLYPH_WIDTH = 5;
const GLYPH_HEIGHT = 7;

/**
 * A point-in-ink test for `word` in capitals, centred, one blank column between letters; the ink cell is sized so
 * that a word of `widestLetters` letters spans 84% of the side (every word of the check is drawn at the same size).
 */
export function wordTest(word: string, widestLetters: number): (x: number, y: number) => boolean {
  const letters = [...word.toUpperCase()].map((letter) => {
    const glyph = GLYPHS[letter];
    if (!glyph) throw new RangeError(`The test-image font has no letter '${letter}'.`);
    return glyph;
  });
  const columnsOf = (count: number) => count * (GLYPH_WIDTH + 1) - 1;
  const cell = 0.84 / columnsOf(widestLetters);
  const left = 0.5 - (columnsOf(letters.length) * cell) / 2;
  const top = 0.5 - (GLYPH_HEIGHT * cell) / 2;
  return (x, y) => {
    const column = Math.floor((x - left) / cell);
    const row = Math.floor((y - top) / cell);
    if (column < 0 || row < 0 || row >= GLYPH_HEIGHT) return false;
    const letter = Math.floor(column / (GLYPH_WIDTH + 1));
    const within = column % (GLYPH_WIDTH + 1);
    return within < GLYPH_WIDTH && letters[letter]?.[row]?.[within] === '#';
  };
}
