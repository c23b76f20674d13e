/**
 * Prompt templates: a label becomes a sentence before it is embedded, e.g. 'cat' → 'a photo of a cat.'.
 * Several templates form an ensemble: their normalised embeddings are averaged (see textEmbedder.ts).
 */

/** The placeholder a template uses for the label. */
export const LABEL_PLACEHOLDER = '{}';

/** One template, as in CLIP's and EVA-CLIP's zero-shot recipe. */
export const DEFAULT_TEMPLATES: readonly string[] = ['a photo of a {}.'];

/**
 * The sentence for `label`: every `{}` replaced by the trimmed label. A template without `{}` gets the label
 * appended after a space, so a user-typed template like 'a sketch of' still names the label.
 */
export function fillTemplate(template: string, label: string): string {
  const cleanLabel = label.trim();
  if (!template.includes(LABEL_PLACEHOLDER)) return `${template.trim()} ${cleanLabel}`.trim();
  return template.split(LABEL_PLACEHOLDER).join(cleanLabel);
}

/** Blank templates removed, duplicates dropped (first kept); the default when nothing is left. */
export function normalizeTemplates(templates: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const template of templates) {
    const trimmed = template.trim();
    if (trimmed !== '') seen.add(trimmed);
  }
  return seen.size > 0 ? [...seen] : [...DEFAULT_TEMPLATES];
}
