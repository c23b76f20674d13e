/**
 * What a closed-vocabulary model (the demo: 8 colours × 6 shapes) can and cannot know, decided only from the
 * `vocabulary` its manifest carries, so no word list lives in code.
 */
import type { ModelManifest, ModelVocabulary } from '../core/manifest';

/** Lower-case words of a label: letters (any script) and apostrophes; digits and punctuation split words. */
function wordsOf(label: string): string[] {
  return label.toLowerCase().match(/[\p{L}']+/gu) ?? [];
}

/**
 * The words of `label` the model cannot know: neither one of its groups' words nor another word of its training
 * captions. Each word once, in the order typed. An open-vocabulary model (no vocabulary) knows every word.
 */
export function unknownWords(label: string, vocabulary: ModelVocabulary | undefined | null): string[] {
  if (!vocabulary) return [];
  const known = knownWordsOf(vocabulary);
  return [...new Set(wordsOf(label))].filter((word) => !known.has(word));
}

/** The set of known words, built once per vocabulary: 10,000 labels would otherwise build it 10,000 times. */
const knownWordSets = new WeakMap<ModelVocabulary, ReadonlySet<string>>();
function knownWordsOf(vocabulary: ModelVocabulary): ReadonlySet<string> {
  let known = knownWordSets.get(vocabulary);
  if (!known) {
    known = new Set([...vocabulary.otherWords, ...vocabulary.groups.flatMap((group) => group.words)]);
    knownWordSets.set(vocabulary, known);
  }
  return known;
}

/** Per label, the hint for the words the model cannot know, or null (an open-vocabulary model: all null). */
export function labelHints(
  labels: readonly { text: string }[],
  known: Pick<ModelInUseVocabulary, 'vocabulary' | 'subject'> | null,
): (string | null)[] {
  return labels.map((label) => {
    const unknown = known ? unknownWords(label.text, known.vocabulary) : [];
    return known && unknown.length > 0 ? unknownWordsHint(known.subject, unknown) : null;
  });
}

/** "knows 8 colours × 6 shapes, not photos" (from the manifest; no "not …" part when it names nothing). */
export function vocabularySummary(vocabulary: ModelVocabulary): string {
  const groups = vocabulary.groups.map((group) => `${group.words.length} ${group.name}`).join(' × ');
  return `knows ${groups}${vocabulary.notFor ? `, not ${vocabulary.notFor}` : ''}`;
}

/** The hint beside a label it cannot know: "The demo model does not know 'dog'". */
export function unknownWordsHint(modelLabel: string, words: readonly string[]): string {
  const quoted = words.map((word) => `‘${word}’`);
  const list =
    quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`;
  return `${modelLabel} does not know ${list}`;
}

/** The closed vocabulary of the model in use and how to call it in a sentence; null for an open-vocabulary model. */
export interface ModelInUseVocabulary {
  vocabulary: ModelVocabulary;
  /** The model served with the app (catalog: embedded). */
  isDemo: boolean;
  /** "Demo model" for the model served with the app (catalog: embedded), else the manifest's name. */
  title: string;
  /** "The demo model" / the manifest's name, to start a sentence. */
  subject: string;
  name: string;
  description: string;
}

/** From the loaded model's manifest (undefined while none is loaded) and the catalog (which says what is embedded). */
export function modelInUseVocabulary(
  manifest: ModelManifest | undefined,
  catalog: readonly { id: string; embedded: boolean }[],
): ModelInUseVocabulary | null {
  if (!manifest?.vocabulary) return null;
  const isDemo = catalog.some((entry) => entry.id === manifest.id && entry.embedded);
  return {
    vocabulary: manifest.vocabulary,
    isDemo,
    title: isDemo ? 'Demo model' : manifest.name,
    subject: isDemo ? 'The demo model' : manifest.name,
    name: manifest.name,
    description: manifest.description,
  };
}
