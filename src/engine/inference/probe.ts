/**
 * The manifest probe image, generated rather than stored so that the manifest stays small. Must match
 * `probe_pixel_values` in models/eva_lens/manifest.py bit for bit.
 */
export function probePixelValues(size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  let i = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        out[i++] = ((c * 37 + y * 11 + x * 7) % 23) / 11 - 1;
      }
    }
  }
  return out;
}
