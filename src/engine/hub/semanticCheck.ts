/**
 * The semantic check of a model built from hub weights (issue #16): a few pictures drawn in code (testImages.ts) —
 * coloured circles, blue shapes, solid colours, large printed words — each scored against the prompts of its group
 * with the built model's own towers, tokenizer and preprocessing. The build's probe only proves that int8 and q4
 * agree with each other; a checkpoint that is not the official one, or a tensor laid out wrongly, agrees with itself
 * and still gives nonsense. Such a model answers these pictures at about chance.
 *
 * Every prompt of a group is the right answer for exactly one of its pictures, so a model that gives the same
 * answer whatever it sees gets exactly 1 of each group right (4 of 19): chance and "always the same" score alike.
 */
import type { InferenceSession } from 'onnxruntime-web';
import type { OrtModule } from '../inference/backend';
import { CancelledError } from '../../core/errors';
import type { Dtype, ImagePreprocess, ModelManifest, SemanticCheck } from '../../core/manifest';
import { ImageEmbedder, type ImageTowerRunner } from '../image/imageEmbedder';
import type { ModelStore } from '../storage/modelStore';
import { cosineScores, topK } from '../../core/ranking';
import type { RgbaImage } from '../image/rgbImage';
import { createTowerSession, runImageTower, runTextTower } from '../inference/sessions';
import { TextEmbedder, type PromptTokenizer, type TextTowerRunner } from '../text/textEmbedder';
import { ClipTokenizer } from '../text/tokenizer';
import { BLACK, GREY, WHITE, drawFigure, shapeTest, wordTest, type Rgb, type ShapeName } from './testImages';

/**
 * Share of right answers a model needs. The item set and this share are chosen together (docs/semantic-check.md):
 * random weights, or a model answering the same whatever it sees, get 4 of 19; the project's demo model, which knows
 * colours and shapes but cannot read, gets 15 of 19; the ten colour pictures alone reach the share, so a real CLIP
 * passes without reading a word (EVA02-B/16 reads poorly: 47% zero-shot on MNIST in open_clip's benchmarks).
 */
export const MIN_SHARE = 0.5;

/** Images per image-tower run: a few at once is faster on WASM, and L/14-336 at 4 stays well within memory. */
const IMAGE_BATCH = 4;

/** Colours a person and a CLIP name without hesitation (no white, grey or black: CLIP rarely names achromatic ones). */
const COLOURS: Record<string, Rgb> = {
  red: [220, 30, 30],
  yellow: [240, 220, 30],
  green: [40, 170, 50],
  blue: [30, 70, 220],
  purple: [140, 50, 190],
  pink: [245, 120, 190],
};
const SHAPES: readonly ShapeName[] = ['circle', 'square', 'triangle', 'star', 'heart'];
const SOLID: readonly string[] = ['red', 'green', 'blue', 'yellow'];
const WORDS: readonly string[] = ['cat', 'dog', 'sun', 'bus'];

/** A group of pictures and its prompts: picture i shows what prompt i says. */
interface TestGroup {
  prompts: string[];
  /** What each picture shows, for the record. */
  names: string[];
  draw(index: number, size: number): RgbaImage;
}

export const TEST_GROUPS: readonly TestGroup[] = [
  {
    // The colour of a shape: every picture a circle, only the colour differs.
    prompts: Object.keys(COLOURS).map((colour) => `a ${colour} circle`),
    names: Object.keys(COLOURS).map((colour) => `${colour} circle on grey`),
    draw: (i, size) => drawFigure(size, GREY, Object.values(COLOURS)[i]!, shapeTest('circle')),
  },
  {
    // The shape: every picture blue, only the outline differs.
    prompts: SHAPES.map((shape) => `a blue ${shape}`),
    names: SHAPES.map((shape) => `blue ${shape} on grey`),
    draw: (i, size) => drawFigure(size, GREY, COLOURS.blue!, shapeTest(SHAPES[i]!)),
  },
  {
    // A colour and nothing else.
    prompts: SOLID.map((colour) => colour),
    names: SOLID.map((colour) => `solid ${colour}`),
    draw: (i, size) => drawFigure(size, COLOURS[SOLID[i]!]!, COLOURS[SOLID[i]!]!, () => false),
  },
  {
    // A large printed word: CLIP models read (the demo model cannot).
    prompts: WORDS.map((word) => `the word "${word}"`),
    names: WORDS.map((word) => `the word ${word.toUpperCase()} in black on white`),
    draw: (i, size) =>
      drawFigure(size, WHITE, BLACK, wordTest(WORDS[i]!, Math.max(...WORDS.map((w) => w.length)))),
  },
];

/** Every picture of the check at `size`, in group order. */
export function drawTestImages(size: number): { name: string; image: RgbaImage }[] {
  return TEST_GROUPS.flatMap((group) => group.names.map((name, i) => ({ name, image: group.draw(i, size) })));
}

/** The L2-normalised embedding of every picture at the model's size, in group order. */
export async function embedTestImages(
  model: { image: ImagePreprocess; embedDim: number },
  runImageTower: ImageTowerRunner,
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  const images = new ImageEmbedder(model.image, model.embedDim, runImageTower);
  const pictures = drawTestImages(model.image.size).map(({ image }) => images.preprocess(image));
  const embeddings: Float32Array[] = [];
  for (let at = 0; at < pictures.length; at += IMAGE_BATCH) {
    throwIfCancelled(signal);
    embeddings.push(...(await images.embedPreprocessed(pictures.slice(at, at + IMAGE_BATCH))));
  }
  return embeddings;
}

/**
 * Scores every picture against its group's prompts (cosine of L2-normalised embeddings; one template, the prompt
 * itself) and counts the top-1 answers that are right.
 */
export async function answerTestImages(
  imageEmbeddings: readonly Float32Array[],
  embedDim: number,
  dtype: Dtype,
  tokenizer: PromptTokenizer,
  runTextTower: TextTowerRunner,
): Promise<SemanticCheck> {
  const texts = new TextEmbedder(tokenizer, runTextTower, embedDim, 'semantic-check');
  const items: SemanticCheck['items'] = [];
  for (const group of TEST_GROUPS) {
    const { embeddings } = await texts.embedLabels(group.prompts, ['{}']);
    for (const [i, name] of group.names.entries()) {
      const scores = cosineScores(imageEmbeddings[items.length]!, embeddings, embedDim);
      const answered = group.prompts[topK(scores, 1)[0]!.index]!;
      items.push({ image: name, expected: group.prompts[i]!, answered });
    }
  }
  const correct = items.filter((item) => item.answered === item.expected).length;
  return {
    dtype,
    correct,
    total: items.length,
    minShare: MIN_SHARE,
    passed: correct >= MIN_SHARE * items.length,
    items,
  };
}

/**
 * The check on a model's stored files (WASM): its tokenizer.json and the `dtype` towers, one session at a time, so
 * the image tower is released before the text tower opens (as the build's probe does).
 */
export async function checkStoredModel(
  ort: OrtModule,
  store: Pick<ModelStore, 'readFile'>,
  manifest: Pick<ModelManifest, 'id' | 'image' | 'embedDim' | 'text'>,
  dtype: Dtype,
  signal?: AbortSignal,
): Promise<SemanticCheck> {
  const read = async (path: string) =>
    new Uint8Array(await (await store.readFile(manifest.id, path)).arrayBuffer());
  const session = async <T>(path: string, run: (session: InferenceSession) => Promise<T>): Promise<T> => {
    const opened = await createTowerSession(ort, 'wasm', await read(path));
    try {
      return await run(opened);
    } finally {
      await opened.release();
    }
  };
  const size = manifest.image.size;
  const imageEmbeddings = await session(`image.${dtype}.onnx`, (image) =>
    embedTestImages(manifest, (pixels, batch) => runImageTower({ ort, image }, pixels, batch, size), signal),
  );
  throwIfCancelled(signal);
  const tokenizerJson = JSON.parse(
    new TextDecoder().decode(await read(manifest.text.tokenizer.path)),
  ) as object;
  const tokenizer = new ClipTokenizer(tokenizerJson, manifest.text);
  return session(`text.${dtype}.onnx`, (text) =>
    answerTestImages(imageEmbeddings, manifest.embedDim, dtype, tokenizer, (ids, batch, seqLen) =>
      runTextTower({ ort, text }, ids, batch, seqLen),
    ),
  );
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError('The build was cancelled; the download is kept.');
}
