import { describe, expect, it } from 'vitest';
import { BoxReducer, boxReduce, rotateClockwise } from './pilReduce';
import type { RgbaImage } from './rgbImage';

/** A pseudo-random opaque RGBA image (fixed seed). */
function randomImage(width: number, height: number, seed = 7): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = i % 4 === 3 ? 255 : state >>> 24;
  }
  return { data, width, height };
}

/** Feeds `image` to `reducer` in strips of at most `maxRows` rows, as the decoder does. */
function feed(reducer: BoxReducer, image: RgbaImage, maxRows: number): void {
  for (let top = 0; top < image.height;) {
    const rows = reducer.nextStripRows(maxRows);
    reducer.addRows(image.data.subarray(top * image.width * 4, (top + rows) * image.width * 4), rows);
    top += rows;
  }
}

/** The same picture with its channels stored B, G, R, A. */
function asBgra(image: RgbaImage): RgbaImage {
  const data = new Uint8Array(image.data);
  for (let i = 0; i < data.length; i += 4) [data[i], data[i + 2]] = [data[i + 2]!, data[i]!];
  return { ...image, data };
}

describe('BoxReducer', () => {
  it('gives the bytes of boxReduce on the whole image, whatever the strips', () => {
    const image = randomImage(103, 77);
    for (const [fx, fy] of [
      [4, 4],
      [3, 5],
      [20, 17], // 340-pixel blocks: the unpacked sums
    ] as const) {
      const whole = boxReduce(image, fx, fy);
      for (const maxRows of [1, fy * 2, 1000]) {
        const reducer = new BoxReducer(image.width, image.height, fx, fy);
        feed(reducer, image, maxRows);
        expect(reducer.result().image, `${fx}×${fy} in strips of ${maxRows}`).toEqual(whole);
      }
    }
  });

  it('reads BGRA rows into RGBA output', () => {
    const image = randomImage(40, 30);
    const reducer = new BoxReducer(40, 30, 4, 3, { channelOrder: 'bgra' });
    feed(reducer, asBgra(image), 9);
    expect(reducer.result().image).toEqual(boxReduce(image, 4, 3));
  });

  it('refuses a strip that would split a block row or run past the image', () => {
    const reducer = new BoxReducer(8, 8, 2, 4);
    expect(() => reducer.addRows(new Uint8Array(8 * 3 * 4), 3)).toThrow(/block row/);
    expect(() => reducer.addRows(new Uint8Array(8 * 12 * 4), 12)).toThrow(/More rows/);
    expect(() => reducer.result()).toThrow(/Only 0 of 8 rows/);
  });

  it('reduces a stored picture so that turning the small result equals reducing the turned picture', () => {
    // What the decoder does with a VideoFrame: blocks laid on the stored rows, aligned to the edges the turn
    // reverses, then only the reduced image turned.
    const stored = randomImage(53, 38, 3);
    for (const degrees of [0, 90, 180, 270] as const) {
      const display = rotateClockwise(stored, degrees);
      const [fx, fy] = [4, 3]; // factors on the displayed picture
      const turned = degrees === 90 || degrees === 270;
      const reducer = new BoxReducer(stored.width, stored.height, turned ? fy : fx, turned ? fx : fy, {
        alignRight: degrees === 180 || degrees === 270,
        alignBottom: degrees === 90 || degrees === 180,
      });
      feed(reducer, stored, 10);
      expect(rotateClockwise(reducer.result().image, degrees), `${degrees}°`).toEqual(
        boxReduce(display, fx, fy),
      );
    }
  });
});

describe('rotateClockwise', () => {
  it('turns a 2×1 image a quarter, a half and three quarters clockwise', () => {
    const image = { data: new Uint8Array([1, 1, 1, 255, 2, 2, 2, 255]), width: 2, height: 1 };
    const firstBytes = (degrees: 90 | 180 | 270) => {
      const out = rotateClockwise(image, degrees);
      return [out.width, out.height, out.data[0], out.data[4]];
    };
    // A quarter turn clockwise puts the left pixel on top.
    expect(firstBytes(90)).toEqual([1, 2, 1, 2]);
    expect(firstBytes(180)).toEqual([2, 1, 2, 1]);
    expect(firstBytes(270)).toEqual([1, 2, 2, 1]);
    expect(rotateClockwise(image, 0)).toBe(image);
  });
});
