/**
 * Decode + preprocess real photos with the engine's own code (createImageBitmap, then the PIL-exact bicubic
 * resize, crop and normalisation), timed per image. The same function runs in a worker (where the app does it)
 * and on the page's main thread (the baseline's way, which blocks the UI for as long).
 */
import { decodeImageFile } from '../src/engine/image/decode';
import { preprocessImage } from '../src/engine/image/preprocess';
import type { PreprocessCaseRequest, PreprocessCaseResult } from './protocol';
import { median } from './stats';

export async function runPreprocessCase(
  request: PreprocessCaseRequest,
  where: PreprocessCaseResult['where'],
): Promise<PreprocessCaseResult> {
  const blobs = await Promise.all(
    request.imageUrls.map(async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.blob();
    }),
  );
  const images = request.imageUrls.map((url) => ({
    url,
    width: 0,
    height: 0,
    decodeMs: [] as number[],
    preprocessMs: [] as number[],
  }));
  for (let pass = 0; pass < request.passes; pass++) {
    for (const [index, blob] of blobs.entries()) {
      const image = images[index]!;
      const decodeStarted = performance.now();
      const decoded = await decodeImageFile(blob, image.url, 0);
      const preprocessStarted = performance.now();
      preprocessImage(decoded.pixels, request);
      const done = performance.now();
      image.width = decoded.width;
      image.height = decoded.height;
      // The first pass warms the JIT and the decoders up.
      if (pass === 0) continue;
      image.decodeMs.push(preprocessStarted - decodeStarted);
      image.preprocessMs.push(done - preprocessStarted);
    }
  }
  const perImage = images.map((image) => median(image.decodeMs) + median(image.preprocessMs));
  return {
    kind: 'preprocess',
    where,
    images,
    meanMsPerImage: perImage.reduce((sum, ms) => sum + ms, 0) / perImage.length,
  };
}
