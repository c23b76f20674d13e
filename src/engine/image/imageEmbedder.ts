/**
 * Image embeddings: decoded pixels → the model's preprocessing (preprocess.ts) → image tower, several images per
 * run when asked → L2-normalised embeddings.
 */
import { BackendError } from '../../core/errors';
import type { ImagePreprocess } from '../../core/manifest';
import {
  preprocessImage,
  reducingFactorsFor,
  type PreprocessOptions,
  type ReducedImage,
  type RgbaImage,
} from './preprocess';
import { l2Normalize } from '../../core/ranking';

/** Runs the image tower on `[batch, 3, S, S]` pixels and returns `[batch × dim]` raw embeddings. */
export type ImageTowerRunner = (pixels: Float32Array, batch: number) => Promise<Float32Array>;

export class ImageEmbedder {
  constructor(
    private readonly config: ImagePreprocess,
    readonly dim: number,
    private readonly runImageTower: ImageTowerRunner,
    private readonly preprocessOptions: PreprocessOptions = {},
  ) {}

  /** Floats of one preprocessed image (3 × size × size). */
  get pixelsPerImage(): number {
    return 3 * this.config.size * this.config.size;
  }

  /**
   * The box-reduce factors a decoder may apply to a `width × height` picture while reading it (see
   * DecodeOptions.reducingFactors); `preprocess` then finishes the exact same recipe from the reduced pixels.
   */
  readonly reducingFactors = (width: number, height: number): [number, number] =>
    reducingFactorsFor(width, height, this.config.size, this.preprocessOptions.reducingGap);

  /** One image's `pixel_values` (float32 CHW), from its pixels or the decoder's reduced pixels. */
  preprocess(image: RgbaImage | ReducedImage): Float32Array {
    return preprocessImage(image, this.config, this.preprocessOptions);
  }

  /** Runs preprocessed images in one batch; one L2-normalised embedding per image, in order. */
  async embedPreprocessed(images: readonly Float32Array[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const perImage = this.pixelsPerImage;
    const batch = new Float32Array(images.length * perImage);
    images.forEach((pixels, i) => {
      if (pixels.length !== perImage)
        throw new RangeError(`Expected ${perImage} floats per image, got ${pixels.length}.`);
      batch.set(pixels, i * perImage);
    });
    const raw = await this.runImageTower(batch, images.length);
    if (raw.length !== images.length * this.dim) {
      throw new BackendError(
        `The image model returned ${raw.length} values for ${images.length} images of dimension ${this.dim}.`,
      );
    }
    return images.map((_, i) => l2Normalize(raw.subarray(i * this.dim, (i + 1) * this.dim)));
  }
}
