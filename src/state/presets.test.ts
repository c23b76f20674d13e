import { describe, expect, it } from 'vitest';
import { cleanLabelText } from './labelsSlice';
import { loadPreset, parsePreset, presetRun, PRESETS } from './presets';

describe('label presets', () => {
  it('each preset file loads, names its source and licence, and every template holds the label', async () => {
    for (const entry of PRESETS) {
      const preset = await loadPreset(entry.id);
      expect(preset.id).toBe(entry.id);
      expect(preset.source.length).toBeGreaterThan(20);
      expect(preset.licence).toMatch(/^(MIT|CC0-1\.0)$/);
      for (const template of preset.templates) expect(template, `${entry.id}: ${template}`).toContain('{}');
    }
  });

  it('has the published class and template counts', async () => {
    const counts = async (id: string) => {
      const preset = await loadPreset(id);
      return [preset.labels.length, new Set(preset.labels).size, preset.templates.length];
    };
    // ImageNet: 1,000 names of which 'missile' and 'sunglasses' appear twice (as in CLIP's list); 80 templates.
    expect(await counts('imagenet-1k')).toEqual([1000, 998, 80]);
    expect(await counts('cifar-10')).toEqual([10, 10, 18]);
    expect(await counts('cifar-100')).toEqual([100, 100, 18]);
  });

  it('refuses a damaged preset file and an unknown id with a message', async () => {
    expect(() => parsePreset({ id: 'x', name: 'X', labels: [], templates: ['{}'] })).toThrow('damaged');
    await expect(loadPreset('nope')).rejects.toThrow('There is no preset "nope".');
  });
});

describe('preset menu', () => {
  it('knows before loading how many labels (repeats merged as the labels slice merges them) and templates', async () => {
    for (const entry of PRESETS) {
      const preset = await loadPreset(entry.id);
      const distinct = new Set(preset.labels.map((label) => cleanLabelText(label).toLocaleLowerCase()));
      expect([entry.labelCount, entry.templateCount], entry.id).toEqual([
        distinct.size,
        preset.templates.length,
      ]);
    }
  });

  it('says how long a preset takes only from a measured time per prompt', () => {
    const imagenet = PRESETS.find((entry) => entry.id === 'imagenet-1k')!;
    expect(presetRun(imagenet, null)).toEqual({ labels: 998, templates: 80, prompts: 79_840, seconds: null });
    expect(presetRun(imagenet, 1.25).seconds).toBeCloseTo(99.8, 6);
  });

  it('names each preset as its file does', async () => {
    for (const entry of PRESETS) expect((await loadPreset(entry.id)).name).toBe(entry.name);
  });
});
