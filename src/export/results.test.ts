import { describe, expect, it } from 'vitest';
import {
  folderPlan,
  resultsCsv,
  resultsJson,
  safeName,
  type ExportContext,
  type ExportImage,
} from './results';

const context: ExportContext = {
  modelId: 'eva-lens-demo',
  modelName: 'EVA Lens demo',
  mode: 'single-label',
  labels: ['red star', 'blue star'],
  templates: ['a photo of a {}.'],
  logitScale: 100,
  exportedAt: new Date('2026-12-04T12:00:00Z'),
};

const images: ExportImage[] = [
  {
    id: 'a',
    name: 'one.png',
    top: 'red star',
    error: null,
    scores: [
      { label: 'red star', probability: 0.9, cosine: 0.31 },
      { label: 'blue star', probability: 0.1, cosine: 0.289 },
    ],
  },
  { id: 'b', name: 'bad, file.jpg', top: null, error: 'bad, file.jpg is empty (0 bytes).', scores: [] },
];

describe('resultsCsv', () => {
  it('writes a row per image and label, with rank, outcome and model, and one row for a failed image', () => {
    expect(resultsCsv(context, images).split('\r\n')).toEqual([
      'file,rank,label,probability,cosine,outcome,model,error',
      'one.png,1,red star,0.9,0.31,red star,eva-lens-demo,',
      'one.png,2,blue star,0.1,0.289,red star,eva-lens-demo,',
      '"bad, file.jpg",,,,,,eva-lens-demo,"bad, file.jpg is empty (0 bytes)."',
      '',
    ]);
  });
});

describe('resultsJson', () => {
  it('names the model, labels and templates and lists every score', () => {
    const parsed = JSON.parse(resultsJson(context, images));
    expect(parsed.model).toEqual({ id: 'eva-lens-demo', name: 'EVA Lens demo', logitScale: 100 });
    expect(parsed.templates).toEqual(['a photo of a {}.']);
    expect(parsed.images[0]).toEqual({
      file: 'one.png',
      outcome: 'red star',
      scores: [
        { label: 'red star', probability: 0.9, cosine: 0.31 },
        { label: 'blue star', probability: 0.1, cosine: 0.289 },
      ],
    });
    expect(parsed.images[1].error).toBe('bad, file.jpg is empty (0 bytes).');
  });
});

describe('safeName', () => {
  it('keeps what the person typed where every file system allows it', () => {
    expect(safeName("my sister's bike")).toBe("my sister's bike");
    expect(safeName('cats/dogs: a <mix>?')).toBe('cats_dogs_ a _mix__');
    expect(safeName('  trailing dots... ')).toBe('trailing dots');
    expect(safeName('..')).toBe('unnamed');
    expect(safeName('CON')).toBe('CON_');
    expect(safeName('😀 emoji')).toBe('😀 emoji');
  });
});

describe('folderPlan', () => {
  it('puts each image in its top label folder, renaming repeats as file managers do', () => {
    const plan = folderPlan([
      { ...images[0]!, id: '1', name: 'a.png' },
      { ...images[0]!, id: '2', name: 'holiday/a.png' },
      { ...images[0]!, id: '3', name: 'A.PNG' },
      { ...images[1]!, id: '4', name: 'a.png' },
    ]);
    expect(plan).toEqual([
      { imageId: '1', folder: 'red star', name: 'a.png' },
      { imageId: '2', folder: 'red star', name: 'a (2).png' },
      { imageId: '3', folder: 'red star', name: 'A (3).PNG' },
      { imageId: '4', folder: 'not classified', name: 'a.png' },
    ]);
  });
});

describe('folderPlan in multi-label mode', () => {
  it('copies an image into the folder of each label that applies', () => {
    const plan = folderPlan([{ ...images[0]!, id: '1', name: 'a.png', folders: ['red star', 'blue star'] }]);
    expect(plan).toEqual([
      { imageId: '1', folder: 'red star', name: 'a.png' },
      { imageId: '1', folder: 'blue star', name: 'a.png' },
    ]);
  });
});
